/* test_util_text — UTF-8 counting, control characters, email syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/text.h"

#include <stdio.h>
#include <string.h>

static void utf8_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(lk_utf8_count(""), 0);
    assert_int_equal(lk_utf8_count("abc"), 3);
    assert_int_equal(lk_utf8_count("Jürgen"), 6);
    assert_int_equal(lk_utf8_count("日本"), 2);
    assert_int_equal(lk_utf8_count("😀"), 1);
}

static void utf8_rejects_malformed(void **state)
{
    (void)state;
    assert_int_equal(lk_utf8_count("\xff"), -1);
    assert_int_equal(lk_utf8_count("a\xc3"), -1);          /* truncated */
    assert_int_equal(lk_utf8_count("\xc0\xaf"), -1);        /* overlong '/' */
    assert_int_equal(lk_utf8_count("\xe0\x80\xaf"), -1);    /* overlong, 3 bytes */
    assert_int_equal(lk_utf8_count("\xed\xa0\x80"), -1);    /* surrogate U+D800 */
    assert_int_equal(lk_utf8_count("\xf4\x90\x80\x80"), -1);/* above U+10FFFF */
    assert_int_equal(lk_utf8_count("\x80"), -1);            /* lone continuation */
}

static void control_characters(void **state)
{
    (void)state;
    assert_false(lk_text_has_control("plain text", false));
    assert_true(lk_text_has_control("tab\there", false));
    assert_false(lk_text_has_control("tab\there", true));
    assert_false(lk_text_has_control("line\nbreak", true));
    assert_true(lk_text_has_control("bell\a", true));
    assert_true(lk_text_has_control("del\x7f", true));
    assert_true(lk_text_has_control("c1 \xc2\x85 next line", true));
    assert_false(lk_text_has_control("\xc2\xa0 nbsp is fine", false));
    assert_true(lk_text_has_control("evil\xe2\x80\xaetxt.exe", false)); /* U+202E override */
    assert_true(lk_text_has_control("iso\xe2\x81\xa6late", true));      /* U+2066 isolate */
    assert_false(lk_text_has_control("dash \xe2\x80\x94 ok", false));   /* U+2014 em dash */
}

static void unicode_blanks(void **state)
{
    (void)state;
    assert_true(lk_text_is_blank(""));
    assert_true(lk_text_is_blank(" \t"));
    assert_true(lk_text_is_blank("\xc2\xa0"));                 /* no-break space */
    assert_true(lk_text_is_blank("\xe2\x80\x8b\xe3\x80\x80"));   /* zero-width + ideographic */
    assert_false(lk_text_is_blank("\xc2\xa0x"));
    assert_false(lk_text_is_blank("Zoë"));
}

static void outer_spaces(void **state)
{
    (void)state;
    assert_false(lk_text_has_outer_space(""));
    assert_false(lk_text_has_outer_space("Sales team"));
    assert_false(lk_text_has_outer_space("Zoë"));
    assert_true(lk_text_has_outer_space(" Sales"));
    assert_true(lk_text_has_outer_space("Sales\t"));
    assert_true(lk_text_has_outer_space("Sales\xc2\xa0"));      /* U+00A0 */
    assert_true(lk_text_has_outer_space("\xe3\x80\x80Sales"));  /* U+3000 */
    assert_true(lk_text_has_outer_space("Sales\xe2\x80\x8b"));  /* U+200B */
    assert_true(lk_text_has_outer_space("\xef\xbb\xbfSales"));  /* U+FEFF */
}

static void emails(void **state)
{
    (void)state;
    const char *good[] = {"a@b.co", "api.user+tag@example.com", "o'neil@sub.example.org", "x_y-z@ex-ample.io"};
    const char *bad[] = {"", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com", "a b@c.com",
                         ".a@b.com", "a.@b.com", "a..b@c.com", "a@-b.com", "a@b-.com", "a@b..com", "a@b.com.",
                         "ü@b.com", "a@bü.com", "a@b_c.com"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(lk_email_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(lk_email_valid(bad[i]));
    assert_false(lk_email_valid(NULL));

    char local[70], long_addr[300];
    memset(local, 'a', 65);
    local[65] = '\0';
    snprintf(long_addr, sizeof long_addr, "%s@example.com", local);
    assert_false(lk_email_valid(long_addr)); /* local part over 64 */

    char big[300] = "a@";
    for (int i = 0; i < 5; i++)
        strcat(big, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
    strcat(big, "com");
    assert_true(strlen(big) > 254);
    assert_false(lk_email_valid(big));
}

static void case_insensitive_equality(void **state)
{
    (void)state;
    assert_true(lk_str_ieq("API Only", "api only"));
    assert_false(lk_str_ieq("API Only", "api onl"));
    assert_false(lk_str_ieq(NULL, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_counts_code_points),
        cmocka_unit_test(utf8_rejects_malformed),
        cmocka_unit_test(control_characters),
        cmocka_unit_test(unicode_blanks),
        cmocka_unit_test(outer_spaces),
        cmocka_unit_test(emails),
        cmocka_unit_test(case_insensitive_equality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
