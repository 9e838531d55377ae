/*
 * test_conncap — connections per address (http/conncap.h): an address is admitted
 * while it holds fewer than the limit; each address counts alone (IPv4 and IPv6 apart,
 * an IPv6 address whole, not by its /64); a close gives the place back, and an address
 * whose connections all closed is forgotten. The server's use of it (trusted proxies
 * left out) is tested end to end in tests/e2e/server-stalls.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/conncap.h"

#include <stdio.h>

static lk_ip ip_of(const char *text)
{
    lk_ip ip;
    assert_true(lk_ip_parse(text, &ip));
    return ip;
}

static void an_address_holds_at_most_the_limit(void **state)
{
    (void)state;
    lk_conncap *c = lk_conncap_new(3);
    lk_ip a = ip_of("192.0.2.1"), b = ip_of("192.0.2.2");
    for (int i = 0; i < 3; i++) {
        assert_true(lk_conncap_admits(c, &a));
        lk_conncap_add(c, &a);
    }
    assert_false(lk_conncap_admits(c, &a));
    assert_int_equal(lk_conncap_count(c, &a), 3);
    /* another address is not concerned */
    assert_true(lk_conncap_admits(c, &b));
    assert_int_equal(lk_conncap_count(c, &b), 0);
    /* a close gives one place back */
    lk_conncap_remove(c, &a);
    assert_true(lk_conncap_admits(c, &a));
    assert_int_equal(lk_conncap_count(c, &a), 2);
    lk_conncap_free(c);
}

static void addresses_count_apart(void **state)
{
    (void)state;
    lk_conncap *c = lk_conncap_new(1);
    lk_ip v4 = ip_of("10.0.0.1"), v6 = ip_of("2001:db8::1"), v6b = ip_of("2001:db8::2");
    lk_ip zeros = ip_of("::"), zeros4 = ip_of("0.0.0.0");
    lk_conncap_add(c, &v4);
    lk_conncap_add(c, &v6);
    assert_false(lk_conncap_admits(c, &v4));
    assert_false(lk_conncap_admits(c, &v6));
    /* an IPv6 address counts whole: the next one of its /64 is another address */
    assert_true(lk_conncap_admits(c, &v6b));
    /* the families are apart even where the bytes are the same */
    lk_conncap_add(c, &zeros);
    assert_true(lk_conncap_admits(c, &zeros4));
    lk_conncap_free(c);
}

static void closed_addresses_are_forgotten(void **state)
{
    (void)state;
    lk_conncap *c = lk_conncap_new(2);
    char text[32];
    /* many addresses come and go: each is forgotten when its last connection closes */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            snprintf(text, sizeof text, "198.51.%d.%d", i / 250, i % 250);
            lk_ip ip = ip_of(text);
            lk_conncap_add(c, &ip);
            lk_conncap_add(c, &ip);
            assert_false(lk_conncap_admits(c, &ip));
        }
        for (int i = 0; i < 500; i++) {
            snprintf(text, sizeof text, "198.51.%d.%d", i / 250, i % 250);
            lk_ip ip = ip_of(text);
            lk_conncap_remove(c, &ip);
            lk_conncap_remove(c, &ip);
            assert_int_equal(lk_conncap_count(c, &ip), 0);
        }
    }
    /* a close never counted changes nothing */
    lk_ip never = ip_of("203.0.113.9");
    lk_conncap_remove(c, &never);
    assert_int_equal(lk_conncap_count(c, &never), 0);
    lk_conncap_free(c); /* LeakSanitizer: no entry left behind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_address_holds_at_most_the_limit),
        cmocka_unit_test(addresses_count_apart),
        cmocka_unit_test(closed_addresses_are_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
