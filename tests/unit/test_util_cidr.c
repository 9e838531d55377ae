/*
 * test_util_cidr — addresses and CIDR ranges (util/cidr.h): what parses and what is
 * refused (with a reason), canonical text, host bits, prefix bounds, matching of
 * IPv4, IPv6 and IPv4-mapped addresses, and the round trip format → parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/cidr.h"

#include <stdio.h>
#include <string.h>

/* the canonical text of s, which must parse */
static const char *canon(const char *s)
{
    static char buf[LK_CIDR_TEXT];
    lk_cidr c;
    const char *why = NULL;
    if (!lk_cidr_parse(s, &c, &why))
        fail_msg("'%s' should parse: %s", s, why);
    lk_cidr_format(&c, buf);
    return buf;
}

/* s is refused, and the reason contains needle */
static void refused(const char *s, const char *needle)
{
    lk_cidr c;
    const char *why = NULL;
    if (lk_cidr_parse(s, &c, &why))
        fail_msg("'%s' should be refused", s ? s : "(null)");
    assert_non_null(why);
    if (!strstr(why, needle))
        fail_msg("reason for '%s' is '%s', expected it to mention '%s'", s ? s : "(null)", why, needle);
}

static bool contains(const char *range, const char *addr)
{
    lk_cidr c;
    lk_ip ip;
    assert_true(lk_cidr_parse(range, &c, NULL));
    if (!lk_ip_parse(addr, &ip))
        fail_msg("'%s' should be an address", addr);
    return lk_cidr_contains(&c, &ip);
}

static void canonical_forms(void **state)
{
    assert_string_equal(canon("10.0.0.0/8"), "10.0.0.0/8");
    assert_string_equal(canon("192.0.2.7"), "192.0.2.7/32");
    assert_string_equal(canon("192.0.2.7/32"), "192.0.2.7/32");
    assert_string_equal(canon("0.0.0.0/0"), "0.0.0.0/0");
    assert_string_equal(canon("2001:db8::/32"), "2001:db8::/32");
    assert_string_equal(canon("2001:DB8:0:0::/32"), "2001:db8::/32");
    assert_string_equal(canon("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1/128");
    assert_string_equal(canon("::1"), "::1/128");
    assert_string_equal(canon("::/0"), "::/0");
    assert_string_equal(canon("fe80::/10"), "fe80::/10");
    /* IPv4-mapped: the IPv4 range it means */
    assert_string_equal(canon("::ffff:192.0.2.7"), "192.0.2.7/32");
    assert_string_equal(canon("::ffff:10.0.0.0/104"), "10.0.0.0/8");
    assert_string_equal(canon("::FFFF:c000:0207"), "192.0.2.7/32");
    assert_string_equal(canon("::ffff:0:0/96"), "0.0.0.0/0");
}

static void refusals(void **state)
{
    refused(NULL, "empty");
    refused("", "empty");
    refused("10.0.0.1/8", "bits set beyond the prefix");
    refused("2001:db8::1/32", "bits set beyond the prefix");
    refused("10.0.0.0/33", "at most 32");
    refused("::/129", "at most 128");
    refused("10.0.0.0/", "prefix length");
    refused("10.0.0.0/08", "leading zeros");
    refused("10.0.0.0/+8", "prefix length");
    refused("10.0.0.0/ 8", "prefix length");
    refused("10.0.0.0/8/8", "prefix length");
    refused("10.0.0.0/1000", "prefix length");
    refused("10.0.0.*", "wildcards");
    refused("10.0.0.1-10.0.0.9", "wildcards");
    refused("10.0.0", "not an IPv4 or IPv6 address");
    refused("10.0.0.256", "not an IPv4 or IPv6 address");
    refused("010.0.0.1", "not an IPv4 or IPv6 address");
    refused(" 10.0.0.1", "not an IPv4 or IPv6 address");
    refused("10.0.0.1 ", "not an IPv4 or IPv6 address");
    refused("example.com", "not an IPv4 or IPv6 address");
    refused("fe80::1%eth0", "not an IPv4 or IPv6 address");
    refused("1:2:3:4:5:6:7:8:9", "not an IPv4 or IPv6 address");
    refused("::ffff:1.2.3", "not an IPv4 or IPv6 address");
    refused("/8", "not an IPv4 or IPv6 address");
    char longer[200];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    refused(longer, "too long");
}

/* host bits: *out is the range probably meant; other faults leave *out zeroed */
static void what_was_meant(void **state)
{
    lk_cidr c;
    char buf[LK_CIDR_TEXT];
    assert_false(lk_cidr_parse("10.1.2.3/8", &c, NULL));
    lk_cidr_format(&c, buf);
    assert_string_equal(buf, "10.0.0.0/8");
    assert_false(lk_cidr_parse("2001:db8:ffff::1/33", &c, NULL));
    lk_cidr_format(&c, buf);
    assert_string_equal(buf, "2001:db8:8000::/33");
    assert_false(lk_cidr_parse("10.0.0.0/40", &c, NULL));
    assert_int_equal(c.ip.family, 0);
    assert_false(lk_cidr_parse("nonsense", &c, NULL));
    assert_int_equal(c.ip.family, 0);
}

static void addresses(void **state)
{
    lk_ip ip;
    char buf[LK_CIDR_TEXT];
    assert_true(lk_ip_parse("192.0.2.7", &ip));
    assert_int_equal(ip.family, 4);
    lk_ip_format(&ip, buf);
    assert_string_equal(buf, "192.0.2.7");
    assert_true(lk_ip_parse("2001:DB8::1", &ip));
    assert_int_equal(ip.family, 6);
    lk_ip_format(&ip, buf);
    assert_string_equal(buf, "2001:db8::1");
    assert_true(lk_ip_parse("::ffff:192.0.2.7", &ip));
    lk_ip_format(&ip, buf);
    assert_string_equal(buf, "192.0.2.7"); /* mapped shown as IPv4 */
    assert_false(lk_ip_parse("10.0.0.0/8", &ip));
    assert_false(lk_ip_parse("", &ip));
    assert_false(lk_ip_parse(NULL, &ip));
    assert_false(lk_ip_parse("1.2.3.4.5", &ip));
}

static void matching(void **state)
{
    assert_true(contains("10.0.0.0/8", "10.255.3.4"));
    assert_true(contains("10.0.0.0/8", "10.0.0.0"));
    assert_false(contains("10.0.0.0/8", "11.0.0.1"));
    assert_false(contains("10.0.0.0/8", "9.255.255.255"));
    assert_true(contains("192.0.2.0/25", "192.0.2.127"));
    assert_false(contains("192.0.2.0/25", "192.0.2.128"));
    assert_true(contains("192.0.2.7", "192.0.2.7"));
    assert_false(contains("192.0.2.7", "192.0.2.6"));
    assert_true(contains("0.0.0.0/0", "203.0.113.9"));
    assert_false(contains("0.0.0.0/0", "2001:db8::1"));

    assert_true(contains("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(contains("2001:db8::/32", "2001:db9::1"));
    assert_true(contains("2001:db8::/33", "2001:db8:7fff::"));
    assert_false(contains("2001:db8::/33", "2001:db8:8000::"));
    assert_true(contains("::1", "::1"));
    assert_false(contains("::1", "127.0.0.1"));
    assert_false(contains("2001:db8::/32", "10.0.0.1"));

    /* IPv4-mapped addresses (dual-stack sockets) match IPv4 ranges, and back */
    assert_true(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
    assert_false(contains("10.0.0.0/8", "::ffff:11.1.2.3"));
    assert_true(contains("::ffff:10.0.0.0/104", "10.9.9.9"));
    assert_true(contains("127.0.0.1", "::ffff:127.0.0.1"));
    assert_false(contains("10.0.0.0/8", "::10.1.2.3")); /* IPv4-compatible is not mapped */
    /* an IPv6 range short of the mapping prefix sees IPv4 as mapped */
    assert_true(contains("::/0", "10.0.0.1"));
    assert_true(contains("::fffe:0:0/95", "10.0.0.1"));
    assert_false(contains("::fffe:0:0/96", "10.0.0.1"));
}

/* every canonical text parses back to the same range, which holds its own address */
static void round_trip(void **state)
{
    const char *samples[] = {
        "10.0.0.0/8", "192.0.2.7", "0.0.0.0/0", "255.255.255.255", "128.0.0.0/1",
        "2001:db8::/32", "::1", "::", "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "8000::/1", "::ffff:1.2.3.4", "::1.2.3.4", "64:ff9b::/96", "2001:db8:0:1::/64",
        "fe80::1:0:0:0/80",
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        lk_cidr a, b;
        char text[LK_CIDR_TEXT], again[LK_CIDR_TEXT];
        assert_true(lk_cidr_parse(samples[i], &a, NULL));
        lk_cidr_format(&a, text);
        if (!lk_cidr_parse(text, &b, NULL))
            fail_msg("'%s' formats to '%s', which does not parse", samples[i], text);
        assert_int_equal(a.ip.family, b.ip.family);
        assert_int_equal(a.prefix, b.prefix);
        assert_memory_equal(a.ip.addr, b.ip.addr, 16);
        lk_cidr_format(&b, again);
        assert_string_equal(text, again);
        assert_true(lk_cidr_contains(&a, &a.ip));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_forms),
        cmocka_unit_test(refusals),
        cmocka_unit_test(what_was_meant),
        cmocka_unit_test(addresses),
        cmocka_unit_test(matching),
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
