/* test_util_time — the ISO-8601 subset parser and the two output formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/timefmt.h"

static int64_t parse(const char *s)
{
    int64_t t = -1;
    assert_true(lk_time_parse(s, &t));
    return t;
}

static void parses_accepted_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("1970-01-01"), 0);
    assert_int_equal(parse("2027-01-31"), 1801353600);
    assert_int_equal(parse("2027-01-31T00:00:00Z"), 1801353600);
    assert_int_equal(parse("2027-01-31T00:00Z"), 1801353600);
    assert_int_equal(parse("2027-01-31T01:00:00+01:00"), 1801353600);
    assert_int_equal(parse("2027-01-30T19:00:00-05:00"), 1801353600);
    assert_int_equal(parse("2027-01-30T19:00:00-0500"), 1801353600);
    assert_int_equal(parse("2027-01-30T19:00:00-05"), 1801353600);
    assert_int_equal(parse("2027-01-31t00:00:00.123z"), 1801353600);
    assert_int_equal(parse("2027-01-31 00:00:00Z"), 1801353600);
    /* Marketo's output forms, with the literal lower-case t before the zone */
    assert_int_equal(parse("20270131T00:00:00.0t+0000"), 1801353600);
    assert_int_equal(parse("2027-01-31T00:00:00.000t+0000"), 1801353600);
    /* leap day */
    assert_int_equal(parse("2028-02-29") - parse("2028-02-28"), 86400);
}

static void refuses_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"", "2027", "2027-1-31", "2027-13-01", "2027-02-29", "2027-01-32", "2027-00-10",
                         "2027-01-31T", "2027-01-31T25:00:00Z", "2027-01-31T10:60:00Z", "2027-01-31T10:00:61Z",
                         "2027-01-31T10:00:00", "2027-01-31T10:00:00+", "2027-01-31T10:00:00+1", "2027-01-31T10:00:00+15:00",
                         "2027-01-31T10:00:00Zjunk", "2027-01-31T10:00:00.Z", "20270131", "tomorrow", "1969-12-31",
                         "2027-01-31T10:00:00+05:", "2027-01-31X"};
    int64_t t;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (lk_time_parse(bad[i], &t))
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_false(lk_time_parse(NULL, &t));
    /* dates in range whose instant falls outside 1970..9999 UTC once the zone applies
     * (found by fuzz_time: they did not format back) */
    assert_false(lk_time_parse("1970-01-01T00:00:00+01:00", &t));
    assert_false(lk_time_parse("9999-12-31T23:59:59-00:01", &t));
    assert_true(lk_time_parse("9999-12-31T23:59:59Z", &t));
    assert_int_equal(t, LK_TIME_MAX);
}

static void formats(void **state)
{
    (void)state;
    char buf[LK_TIME_BUF];
    assert_string_equal(lk_time_format(1801353600, buf), "2027-01-31T00:00:00Z");
    assert_string_equal(lk_time_format_marketo(1801353600 + 3661, buf), "2027-01-31T01:01:01.000t+0000");
    /* round trip */
    assert_int_equal(parse(lk_time_format(1234567890, buf)), 1234567890);
    assert_int_equal(parse(lk_time_format_marketo(1234567890, buf)), 1234567890);
}

static void now_is_plausible(void **state)
{
    (void)state;
    assert_true(lk_time_now() > 1700000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_accepted_forms),
        cmocka_unit_test(refuses_malformed),
        cmocka_unit_test(formats),
        cmocka_unit_test(now_is_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
