/* test_config — defaults, the three sources and their priority, bounds, help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int clean_env(void **state)
{
    (void)state;
    const char *vars[] = {"LATCHKEY_CONFIG", "LATCHKEY_LISTEN", "LATCHKEY_TOKEN_TTL", "LATCHKEY_DB",
                          "LATCHKEY_LEGACY_QUERY_TOKEN", "LATCHKEY_QUOTA_TZ", "LATCHKEY_SUBSCRIPTION_ID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    return 0;
}

static int load(lk_config *c, char *err, int argc, char **argv)
{
    FILE *out = fopen("/dev/null", "w");
    int rc = lk_config_load(c, argc, argv, out, err, 512);
    fclose(out);
    return rc;
}

static void defaults(void **state)
{
    (void)state;
    lk_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, 0, NULL), 0);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_int_equal(c.token_ttl, 3600);
    assert_true(c.legacy_query_token);
    assert_string_equal(c.quota_tz, "America/Chicago"); /* Marketo's quota day: US Central time */
    assert_int_equal(c.subscription_id, 1);
    assert_int_equal(c.body_limit, 1048576);
    assert_int_equal(c.uri_limit, 8192);
}

static void priority_file_env_flag(void **state)
{
    (void)state;
    char path[] = "/tmp/lk-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# a comment\nlisten = 127.0.0.1:9000\ntoken_ttl = 60\nlegacy-query-token = off\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("LATCHKEY_CONFIG", path, 1);
    setenv("LATCHKEY_TOKEN_TTL", "120", 1);
    lk_config c;
    char err[512] = "";
    char *argv[] = {"--listen", "127.0.0.1:0"};
    assert_int_equal(load(&c, err, 2, argv), 0);
    assert_string_equal(c.listen, "127.0.0.1:0");   /* flag over file */
    assert_int_equal(c.token_ttl, 120);             /* env over file */
    assert_false(c.legacy_query_token);             /* file over default */
    char *argv2[] = {"--token-ttl=30"};
    assert_int_equal(load(&c, err, 1, argv2), 0);
    assert_int_equal(c.token_ttl, 30);              /* flag over env */
    unlink(path);
    unsetenv("LATCHKEY_CONFIG");
    unsetenv("LATCHKEY_TOKEN_TTL");
}

static void refuses_bad_values(void **state)
{
    (void)state;
    lk_config c;
    char err[512];
    char *a1[] = {"--token-ttl", "0"};
    assert_int_equal(load(&c, err, 2, a1), 1);
    assert_non_null(strstr(err, "token_ttl"));
    char *a2[] = {"--no-such-option", "1"};
    assert_int_equal(load(&c, err, 2, a2), 1);
    assert_non_null(strstr(err, "no-such-option"));
    char *a3[] = {"--quota-tz", "Mars/Olympus"};
    assert_int_equal(load(&c, err, 2, a3), 1);
    assert_non_null(strstr(err, "quota_tz"));
    char *a4[] = {"--trusted-proxies", "10.0.0.1/8"};
    assert_int_equal(load(&c, err, 2, a4), 1);
    char *a5[] = {"--legacy-query-token", "maybe"};
    assert_int_equal(load(&c, err, 2, a5), 1);
    char *a6[] = {"--listen"};
    assert_int_equal(load(&c, err, 1, a6), 1);
    char *a7[] = {"--subscription-id", "0"};
    assert_int_equal(load(&c, err, 2, a7), 1);
    assert_non_null(strstr(err, "subscription_id"));
    char *a8[] = {"--subscription-id", "3381"};
    assert_int_equal(load(&c, err, 2, a8), 0);
    assert_int_equal(c.subscription_id, 3381);
    setenv("LATCHKEY_CONFIG", "/nonexistent/latchkey.conf", 1);
    assert_int_equal(load(&c, err, 0, NULL), 1);
    assert_non_null(strstr(err, "/nonexistent/latchkey.conf"));
    unsetenv("LATCHKEY_CONFIG");
}

/* the operations options: their defaults and the combinations refused before anything starts */
static void operations_options(void **state)
{
    (void)state;
    lk_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, 0, NULL), 0);
    assert_string_equal(c.log_format, "logfmt");
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.management_listen, "");
    assert_string_equal(c.tls_cert_file, "");
    assert_int_equal(c.ready_db_timeout_ms, 2000);
    assert_int_equal(c.ready_catalog_max_age, 10);
    assert_int_equal(c.ready_writer_max_lag, 10);
    char *ok[] = {"--log-format", "json", "--log-level", "warn", "--listen", "127.0.0.1:0", "--management-listen",
                  "127.0.0.1:0"};
    assert_int_equal(load(&c, err, 8, ok), 0);
    assert_string_equal(c.log_format, "json");
    assert_string_equal(c.auth_check_path, "/auth/check");
    assert_string_equal(c.gateway_style, "marketo");
    char *gw[] = {"--auth-check-path", "/_gateway/check", "--gateway-style", "plain"};
    assert_int_equal(load(&c, err, 4, gw), 0);
    assert_string_equal(c.auth_check_path, "/_gateway/check");
    assert_string_equal(c.gateway_style, "plain");
    static const struct {
        const char *flag, *value, *want;
    } bad[] = {
        {"--log-format", "text", "log_format: must be logfmt or json"},
        {"--log-level", "trace", "log_level: must be debug, info, warn or error"},
        {"--tls-cert-file", "/x.pem", "tls_cert_file is set but tls_key_file is not"},
        {"--tls-key-file", "/x.key", "tls_key_file is set but tls_cert_file is not"},
        {"--management-listen", "127.0.0.1:8080", "management_listen: must differ from listen"},
        {"--ready-db-timeout-ms", "10", "ready_db_timeout_ms must be a whole number from 50 to 60000"},
        {"--mail-templates", "/nonexistent/templates", "mail_templates: cannot open the folder"},
        {"--auth-check-path", "auth", "auth_check_path: 'auth' is not a path"},
        {"--auth-check-path", "/rest/v1/check", "auth_check_path: '/rest/v1/check' is one of latchkey's own paths"},
        {"--auth-check-path", "/healthz", "is one of latchkey's own paths"},
        {"--auth-check-path", "/", "is one of latchkey's own paths"},
        {"--gateway-style", "json", "gateway_style: 'json' is neither marketo nor plain"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {(char *)bad[i].flag, (char *)bad[i].value};
        err[0] = '\0';
        assert_int_equal(load(&c, err, 2, argv), 1);
        if (!strstr(err, bad[i].want))
            fail_msg("%s %s: '%s' lacks '%s'", bad[i].flag, bad[i].value, err, bad[i].want);
    }
}

static void help_lists_every_option(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    lk_config c;
    char err[512];
    char *argv[] = {"--help"};
    assert_int_equal(lk_config_load(&c, 1, argv, out, err, sizeof err), 2);
    fclose(out);
    const char *flags[] = {"--listen", "--db", "--token-ttl", "--legacy-query-token", "--quota-tz",
                           "--trusted-proxies", "--body-limit", "--uri-limit", "--log-format", "--log-level",
                           "--management-listen", "--tls-cert-file", "--tls-key-file", "--mail-templates", "--subscription-id",
                           "--ready-db-timeout-ms", "--ready-catalog-max-age", "--ready-writer-max-lag"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strstr(buf, flags[i]))
            fail_msg("help lacks %s", flags[i]);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, clean_env),
        cmocka_unit_test_setup(priority_file_env_flag, clean_env),
        cmocka_unit_test_setup(refuses_bad_values, clean_env),
        cmocka_unit_test_setup(operations_options, clean_env),
        cmocka_unit_test_setup(help_lists_every_option, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
