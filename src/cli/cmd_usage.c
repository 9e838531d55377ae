/*
 * cmd_usage — `latchkey usage [--days N] [--quota-tz ZONE]`: calls per day per API
 * user and errors per day per code, as the stats endpoints report them (the same
 * JSON shapes), read from the store. Counts of a running server reach the store
 * within about a second.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "config/config.h"
#include "core/stats.h"
#include "util/timefmt.h"

#define DAYS_DEFAULT 7
#define DAYS_MAX 366

static lk_code usage_run(lk_cli_cmd *c)
{
    const char *tz = lk_cli_str(c, "quota-tz");
    if (!tz)
        tz = getenv("LATCHKEY_QUOTA_TZ");
    lk_config defaults;
    if (!tz || !*tz) {
        lk_config_defaults(&defaults); /* the server's default, America/Chicago */
        tz = defaults.quota_tz;
    }
    if (!lk_time_zone_known(tz))
        return lk_cli_usage(c, "quota-tz", "unknown time zone '%.60s' (an IANA name such as America/Chicago)", tz);
    setenv("TZ", tz, 1);
    tzset();
    int days = (int)lk_cli_num(c, "days");
    if (days < 1)
        return lk_cli_usage(c, "days", "--days must be from 1 to %d", DAYS_MAX);
    int64_t now = lk_time_now();
    char first[11], today[11];
    lk_local_day(now, days - 1, first, NULL, NULL);
    lk_local_day(now, 0, today, NULL, NULL);
    lk_usage_rec *calls;
    lk_error_rec *errs;
    size_t n_calls = 0, n_errs = 0;
    lk_code code = lk_stats_range(c->op, first, today, &calls, &n_calls, &errs, &n_errs);
    if (code != LK_OK)
        return code;

    json_t *usage = json_array(), *errors = json_array();
    lk_table t;
    lk_table_init(&t, c->arena, 4);
    lk_table_row(&t, "DATE", "CALLS", "BY USER", "ERRORS");
    for (int back = 0; back < days; back++) {
        char day[11];
        lk_local_day(now, back, day, NULL, NULL);
        int64_t calls_total, errors_total;
        json_t *u = lk_stats_usage_json(day, calls, n_calls, &calls_total);
        json_t *e = lk_stats_errors_json(day, errs, n_errs, &errors_total);
        const char *by_user = "", *by_code = "";
        for (size_t i = 0; i < n_calls; i++)
            if (strcmp(calls[i].day, day) == 0)
                by_user = lk_arena_printf(c->arena, "%s%s%s=%lld", by_user, *by_user ? ", " : "",
                                          calls[i].user_email, (long long)calls[i].count);
        for (size_t i = 0; i < n_errs; i++)
            if (strcmp(errs[i].day, day) == 0)
                by_code = lk_arena_printf(c->arena, "%s%s%s=%lld", by_code, *by_code ? ", " : "", errs[i].code,
                                          (long long)errs[i].count);
        lk_table_row(&t, lk_arena_strdup(c->arena, day), lk_cli_i64(c, calls_total), by_user, by_code);
        json_array_append_new(usage, u);
        json_array_append_new(errors, e);
    }
    if (c->json) {
        lk_cli_emit(json_pack("{s:o, s:o}", "usage", usage, "errors", errors));
        return LK_OK;
    }
    json_decref(usage);
    json_decref(errors);
    lk_table_print(&t, stdout);
    return LK_OK;
}

static const lk_cli_opt usage_opts[] = {
    {.name = "days", .kind = LK_CLI_COUNT, .meta = "N", .max = DAYS_MAX, .dflt = DAYS_DEFAULT,
     .help = "how many days, today included (default 7)"},
    {.name = "quota-tz", .kind = LK_CLI_TEXT, .meta = "ZONE",
     .help = "time zone of the days (default $LATCHKEY_QUOTA_TZ, else America/Chicago as the server's quota_tz)"},
    {.name = NULL},
};

static const lk_cli_verb usage_cmd = {
    .name = "usage",
    .read_only = true,
    .opts = usage_opts,
    .run = usage_run,
    .summary = "API calls per day per API user, and errors per code",
    .help = "Prints, for today and the days before it, the calls each API user made and the\n"
            "errors answered by Marketo code, as GET /rest/v1/stats/usage/last7days.json and\n"
            "/errors/last7days.json report them. A running server writes its counts to the\n"
            "database about once a second; a crash can lose at most that last second.\n",
};

const lk_cli_noun lk_cli_noun_usage = {
    .name = "usage",
    .summary = "API calls per day per API user, and errors per code",
    .self = &usage_cmd,
};
