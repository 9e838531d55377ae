/* test_util_log — log records as logfmt and JSON: the fields, the request id, the
 * level filter, escaping of everything from outside, and a cut line that stays well
 * formed. Records are written into a pipe and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/log.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fds[2];
static char got[2 * LK_LOG_LINE_MAX];

/* what was written since the last call ("" when nothing) */
static const char *drain(void)
{
    ssize_t n = read(fds[0], got, sizeof got - 1);
    got[n > 0 ? n : 0] = '\0';
    return got;
}

static int open_pipe(void **state)
{
    (void)state;
    if (pipe(fds) != 0)
        return -1;
    /* nothing written: read returns at once */
    return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

static int close_pipe(void **state)
{
    (void)state;
    lk_log_setup(LK_LOG_LOGFMT, LK_LOG_INFO, 2);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

static void logfmt_fields_and_request_id(void **state)
{
    (void)state;
    lk_log_setup(LK_LOG_LOGFMT, LK_LOG_INFO, fds[1]);
    lk_log_line l;
    lk_log_request_id("1a2b3c4d#18c3b2f9e10");
    lk_log_begin(&l, LK_LOG_INFO, "request");
    lk_log_str(&l, "addr", "127.0.0.1");
    lk_log_qstr(&l, "path", "/rest/v1/stats/usage.json");
    lk_log_int(&l, "status", 200);
    lk_log_str(&l, "code", NULL);
    lk_log_str(&l, "user", "grace hopper@example.com");
    lk_log_num(&l, "duration_ms", 0.1234, 3);
    lk_log_end(&l);
    lk_log_request_id(NULL);
    const char *line = drain();
    const char *rest = strstr(line, " level=info ");
    assert_non_null(rest);
    assert_int_equal(strncmp(line, "time=", 5), 0);
    assert_int_equal(line[28], 'Z'); /* time=YYYY-MM-DDTHH:MM:SS.mmmZ */
    assert_string_equal(rest, " level=info msg=request request_id=1a2b3c4d#18c3b2f9e10 addr=127.0.0.1 "
                              "path=\"/rest/v1/stats/usage.json\" status=200 code=- "
                              "user=\"grace hopper@example.com\" duration_ms=0.123\n");
    /* without a request id there is no such field */
    lk_log(LK_LOG_WARN, "disk %s", "full");
    assert_non_null(strstr(drain(), " level=warn msg=\"disk full\"\n"));
}

static void levels_below_the_setting_are_not_written(void **state)
{
    (void)state;
    lk_log_setup(LK_LOG_LOGFMT, LK_LOG_WARN, fds[1]);
    assert_false(lk_log_enabled(LK_LOG_INFO));
    assert_true(lk_log_enabled(LK_LOG_ERROR));
    lk_log(LK_LOG_INFO, "quiet");
    lk_log(LK_LOG_DEBUG, "quieter");
    assert_string_equal(drain(), "");
    lk_log(LK_LOG_ERROR, "loud");
    assert_non_null(strstr(drain(), "level=error msg=loud"));
    lk_log_level lv;
    lk_log_format fm;
    assert_true(lk_log_parse_level("debug", &lv) && lv == LK_LOG_DEBUG);
    assert_false(lk_log_parse_level("verbose", &lv));
    assert_true(lk_log_parse_format("json", &fm) && fm == LK_LOG_JSON);
    assert_false(lk_log_parse_format("text", &fm));
}

static void logfmt_escapes_what_could_forge_a_field_or_a_line(void **state)
{
    (void)state;
    lk_log_setup(LK_LOG_LOGFMT, LK_LOG_INFO, fds[1]);
    lk_log_line l;
    lk_log_begin(&l, LK_LOG_INFO, "x");
    lk_log_str(&l, "method", "GET\nlevel=error msg=forged");
    lk_log_str(&l, "a", "q\"uote\\back\tslash\x1b[31m");
    lk_log_str(&l, "b", "k=v");
    lk_log_str(&l, "c", "");
    lk_log_str(&l, "d", "caf\xc3\xa9 \xff");
    lk_log_end(&l);
    const char *line = drain();
    assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1); /* one line */
    assert_non_null(strstr(line, " method=\"GET\\nlevel=error msg=forged\" "));
    assert_non_null(strstr(line, " a=\"q\\\"uote\\\\back\\tslash\\x1b[31m\" "));
    assert_non_null(strstr(line, " b=\"k=v\" c=\"\" "));
    assert_non_null(strstr(line, " d=\"caf\xc3\xa9 \\xff\"\n")); /* valid UTF-8 kept, invalid bytes escaped */
}

static void json_records_parse_and_keep_their_types(void **state)
{
    (void)state;
    lk_log_setup(LK_LOG_JSON, LK_LOG_INFO, fds[1]);
    lk_log_line l;
    lk_log_request_id("abc");
    lk_log_begin(&l, LK_LOG_INFO, "request");
    lk_log_str(&l, "path", "/x\"y\n\x01\xff");
    lk_log_int(&l, "status", 503);
    lk_log_str(&l, "user", NULL);
    lk_log_num(&l, "duration_ms", 1.5, 3);
    lk_log_end(&l);
    lk_log_request_id(NULL);
    json_error_t e;
    json_t *j = json_loads(drain(), 0, &e);
    if (!j)
        fail_msg("not JSON: %s (%s)", got, e.text);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "request");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "abc");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/x\"y\n\x01\xef\xbf\xbd");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 503);
    assert_true(json_is_null(json_object_get(j, "user")));
    assert_true(json_number_value(json_object_get(j, "duration_ms")) == 1.5);
    assert_non_null(json_string_value(json_object_get(j, "time")));
    json_decref(j);
}

static void an_overlong_record_is_cut_but_well_formed(void **state)
{
    (void)state;
    char *big = malloc(3 * LK_LOG_LINE_MAX);
    memset(big, '"', 3 * LK_LOG_LINE_MAX - 1); /* each escapes to two bytes */
    big[3 * LK_LOG_LINE_MAX - 1] = '\0';
    for (int fmt = 0; fmt < 2; fmt++) {
        lk_log_setup(fmt ? LK_LOG_JSON : LK_LOG_LOGFMT, LK_LOG_INFO, fds[1]);
        lk_log_line l;
        lk_log_begin(&l, LK_LOG_INFO, "big");
        lk_log_str(&l, "a", big);
        lk_log_int(&l, "after", 1); /* no room left: left out, not half written */
        lk_log_end(&l);
        const char *line = drain();
        size_t n = strlen(line);
        assert_true(n <= LK_LOG_LINE_MAX && n > LK_LOG_LINE_MAX - 16);
        assert_int_equal(line[n - 1], '\n');
        assert_null(strstr(line, "after"));
        if (fmt) {
            json_t *j = json_loads(line, 0, NULL);
            assert_non_null(j);
            assert_true(strlen(json_string_value(json_object_get(j, "a"))) > LK_LOG_LINE_MAX / 2 - 64);
            json_decref(j);
        } else {
            assert_int_equal(line[n - 2], '"');
            assert_int_equal(line[n - 3], '"'); /* an escaped quote, then the closing one */
            assert_int_equal(line[n - 4], '\\');
        }
    }
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logfmt_fields_and_request_id),
        cmocka_unit_test(levels_below_the_setting_are_not_written),
        cmocka_unit_test(logfmt_escapes_what_could_forge_a_field_or_a_line),
        cmocka_unit_test(json_records_parse_and_keep_their_types),
        cmocka_unit_test(an_overlong_record_is_cut_but_well_formed),
    };
    return cmocka_run_group_tests(tests, open_pipe, close_pipe);
}
