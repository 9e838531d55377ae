/*
 * stats — the usage statistics endpoints (reference §9): calls per day per API
 * user and errors per day per code, for today or the last 7 days, in the quota
 * time zone. Served from the runtime's in-memory counts; no permission needed
 * beyond a valid token.
 */
#include "api/api.h"
#include "http/envelope.h"

#include <string.h>

json_t *lk_stats_usage_json(const char *day, const lk_usage_rec *calls, size_t n, int64_t *total)
{
    json_t *users = json_array();
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(calls[i].day, day) != 0)
            continue;
        json_array_append_new(users, json_pack("{s:s, s:I}", "userId", calls[i].user_email, "count",
                                               (json_int_t)calls[i].count));
        sum += calls[i].count;
    }
    if (total)
        *total = sum;
    return json_pack("{s:s, s:I, s:o}", "date", day, "total", (json_int_t)sum, "users", users);
}

json_t *lk_stats_errors_json(const char *day, const lk_error_rec *errors, size_t n, int64_t *total)
{
    json_t *list = json_array();
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(errors[i].day, day) != 0)
            continue;
        json_array_append_new(list, json_pack("{s:s, s:I}", "errorCode", errors[i].code, "count",
                                              (json_int_t)errors[i].count));
        sum += errors[i].count;
    }
    if (total)
        *total = sum;
    return json_pack("{s:s, s:I, s:o}", "date", day, "total", (json_int_t)sum, "errors", list);
}

json_t *lk_api_stats_usage_item(lk_request *r, const char *day)
{
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_day(lk_runtime_usage(r->rt), &r->arena, day, &calls, &n_calls, &errors, &n_errors);
    return lk_stats_usage_json(day, calls, n_calls, NULL);
}

static json_t *errors_item(lk_request *r, const char *day)
{
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_day(lk_runtime_usage(r->rt), &r->arena, day, &calls, &n_calls, &errors, &n_errors);
    return lk_stats_errors_json(day, errors, n_errors, NULL);
}

/* today first, then the days before it */
static void answer(lk_request *r, int days, json_t *(*item)(lk_request *, const char *))
{
    json_t *result = json_array();
    for (int back = 0; back < days; back++) {
        char day[LK_DAY_LEN + 1];
        lk_runtime_day_text(r->rt, r->now, back, day);
        json_array_append_new(result, item(r, day));
    }
    lk_rest_ok(r, result);
}

/* lk_stats_usage_json's object for a day, written as text into w */
static void usage_text(lk_request *r, lk_jw *w, const char *day)
{
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_day(lk_runtime_usage(r->rt), &r->arena, day, &calls, &n_calls, &errors, &n_errors);
    int64_t sum = 0;
    for (size_t i = 0; i < n_calls; i++)
        if (strcmp(calls[i].day, day) == 0)
            sum += calls[i].count;
    LK_JW_LIT(w, "{\"date\":");
    lk_jw_str(w, day);
    LK_JW_LIT(w, ",\"total\":");
    lk_jw_int(w, (json_int_t)sum);
    LK_JW_LIT(w, ",\"users\":[");
    bool first = true;
    for (size_t i = 0; i < n_calls; i++) {
        if (strcmp(calls[i].day, day) != 0)
            continue;
        if (!first)
            LK_JW_LIT(w, ",");
        first = false;
        LK_JW_LIT(w, "{\"userId\":");
        lk_jw_str(w, calls[i].user_email);
        LK_JW_LIT(w, ",\"count\":");
        lk_jw_int(w, (json_int_t)calls[i].count);
        LK_JW_LIT(w, "}");
    }
    LK_JW_LIT(w, "]}");
}

/* The usage endpoints are on the hot path: their answer (a fixed shape) is written
 * as text, without a jansson tree; should a string not be UTF-8, the tree's answer. */
static void answer_usage(lk_request *r, int days)
{
    lk_jw w;
    lk_rest_ok_begin(r, &w);
    LK_JW_LIT(&w, "[");
    for (int back = 0; back < days; back++) {
        char day[LK_DAY_LEN + 1];
        lk_runtime_day_text(r->rt, r->now, back, day);
        if (back)
            LK_JW_LIT(&w, ",");
        usage_text(r, &w, day);
    }
    LK_JW_LIT(&w, "]");
    if (!lk_rest_ok_end(r, &w))
        answer(r, days, lk_api_stats_usage_item);
}

void lk_api_stats_usage(lk_request *r)
{
    answer_usage(r, 1);
}

void lk_api_stats_usage_7days(lk_request *r)
{
    answer_usage(r, 7);
}

void lk_api_stats_errors(lk_request *r)
{
    answer(r, 1, errors_item);
}

void lk_api_stats_errors_7days(lk_request *r)
{
    answer(r, 7, errors_item);
}
