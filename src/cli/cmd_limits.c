/*
 * cmd_limits — `latchkey limits show|set`: the call limits of the instance and of
 * API-only users (core/limits.h). `set` prints what `show` prints, after the
 * change, so that scripts read one shape.
 *
 * In the table a 0 reads as what it means: "unlimited" for the instance, "-" for a
 * user (no limit of the user's own; the instance's applies).
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

static json_t *limits_json(const char *user, const lk_limits *l)
{
    json_t *o = json_object();
    if (user)
        json_object_set_new(o, "user", lk_cli_json_str(user));
    json_object_set_new(o, "rateCalls", json_integer((json_int_t)l->rate_calls));
    json_object_set_new(o, "rateSeconds", json_integer((json_int_t)l->rate_seconds));
    json_object_set_new(o, "daily", json_integer((json_int_t)l->daily));
    json_object_set_new(o, "concurrent", json_integer((json_int_t)l->concurrent));
    return o;
}

static const char *cell(lk_cli_cmd *c, int64_t v, const char *none)
{
    return v ? lk_cli_i64(c, v) : none;
}

static void table_row(lk_cli_cmd *c, lk_table *t, const char *scope, const lk_limits *l, const char *none)
{
    const char *rate = l->rate_calls ? lk_arena_printf(c->arena, "%lld/%lld", (long long)l->rate_calls,
                                                       (long long)l->rate_seconds)
                                     : none;
    lk_table_row(t, scope, rate, cell(c, l->daily, none), cell(c, l->concurrent, none));
}

/* the instance's limits and every user with limits of their own */
static lk_code print_limits(lk_cli_cmd *c)
{
    lk_limits inst;
    lk_user_limits *users = NULL;
    size_t n = 0;
    lk_code code = lk_limits_instance(c->op, &inst);
    if (code == LK_OK)
        code = lk_limits_users(c->op, &users, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, limits_json(users[i].user_email, &users[i].limits));
        json_t *doc = json_object();
        json_object_set_new(doc, "instance", limits_json(NULL, &inst));
        json_object_set_new(doc, "users", arr);
        return lk_cli_emit(doc);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 4);
    lk_table_row(&t, "SCOPE", "RATE (CALLS/SECONDS)", "DAILY", "CONCURRENT");
    table_row(c, &t, "instance", &inst, "unlimited");
    for (size_t i = 0; i < n; i++)
        table_row(c, &t, users[i].user_email, &users[i].limits, "-");
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code limits_show(lk_cli_cmd *c)
{
    return print_limits(c);
}

/* digits only (no sign, no blanks), at most max */
static bool parse_number(const char *s, int64_t max, int64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static lk_code option_number(lk_cli_cmd *c, const char *name, int64_t max, bool *set, int64_t *out)
{
    const char *s = lk_cli_str(c, name);
    *set = s != NULL;
    if (!s || parse_number(s, max, out))
        return LK_OK;
    return lk_fail(&c->op->err, LK_EINVAL, name, "--%s must be a whole number from 0 to %lld, not '%.80s'",
                   name, (long long)max, s);
}

/* "CALLS/SECONDS" (100/20), or "0" for no rate limit */
static lk_code option_rate(lk_cli_cmd *c, lk_limits_change *ch)
{
    const char *s = lk_cli_str(c, "rate");
    ch->set_rate = s != NULL;
    if (!s || strcmp(s, "0") == 0)
        return LK_OK;
    const char *slash = strchr(s, '/');
    if (slash) {
        const char *calls = lk_arena_strndup(c->arena, s, (size_t)(slash - s));
        if (parse_number(calls, INT32_MAX, &ch->rate_calls) &&
            parse_number(slash + 1, INT32_MAX, &ch->rate_seconds))
            return LK_OK;
    }
    return lk_fail(&c->op->err, LK_EINVAL, "rate",
                   "--rate must be CALLS/SECONDS such as 100/20 (100 calls per 20 seconds), or 0 "
                   "for no rate limit, not '%.80s'", s);
}

static lk_code limits_set(lk_cli_cmd *c)
{
    lk_limits_change ch = {0};
    if (!lk_cli_str(c, "rate") && !lk_cli_str(c, "daily") && !lk_cli_str(c, "concurrent"))
        return lk_cli_usage(c, "", "nothing to change: give --rate, --daily or --concurrent; see "
                                   "'latchkey limits set --help'");
    lk_code code = option_rate(c, &ch);
    if (code == LK_OK)
        code = option_number(c, "daily", LK_LIMIT_DAILY_MAX, &ch.set_daily, &ch.daily);
    if (code == LK_OK)
        code = option_number(c, "concurrent", LK_LIMIT_CONCURRENT_MAX, &ch.set_concurrent, &ch.concurrent);
    if (code == LK_OK)
        code = lk_limits_set(c->op, lk_cli_str(c, "user"), &ch, NULL);
    if (code != LK_OK)
        return code;
    return print_limits(c);
}

static const lk_cli_opt set_opts[] = {
    {.name = "user", .kind = LK_CLI_TEXT, .meta = "EMAIL",
     .help = "an API-only user (email or user id); else the whole instance"},
    {.name = "rate", .kind = LK_CLI_TEXT, .meta = "CALLS/SECONDS",
     .help = "calls per rolling window, e.g. 100/20; 0 removes the rate limit"},
    {.name = "daily", .kind = LK_CLI_TEXT, .meta = "N",
     .help = "calls per day in the quota time zone; 0 removes the quota"},
    {.name = "concurrent", .kind = LK_CLI_TEXT, .meta = "N",
     .help = "calls in flight at once; 0 removes the limit"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "show", .read_only = true, .run = limits_show,
     .summary = "show the limits of the instance and of API-only users",
     .help = "Shows the limits of the whole instance and of every API-only user who has\n"
             "limits of their own. A call must pass both. For the instance 'unlimited'\n"
             "means no limit of that kind; for a user '-' means none of the user's own.\n"},
    {.name = "set", .opts = set_opts, .run = limits_set,
     .summary = "change the limits of the instance or of one API-only user",
     .help = "Changes the limits of the whole instance, or with --user of one API-only\n"
             "user; limits not named stay as they are. Give at least one of --rate,\n"
             "--daily and --concurrent; 0 removes that limit (for a user: the instance's\n"
             "applies alone). Defaults of a new instance: 100/20, 50000 a day, 10 in\n"
             "flight. Prints what 'limits show' prints.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_limits = {
    .name = "limits",
    .summary = "call limits of the REST API: rate, daily quota, calls in flight",
    .verbs = verbs,
};
