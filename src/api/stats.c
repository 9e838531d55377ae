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

void lk_api_stats_usage(lk_request *r)
{
    answer(r, 1, lk_api_stats_usage_item);
}

void lk_api_stats_usage_7days(lk_request *r)
{
    answer(r, 7, lk_api_stats_usage_item);
}

void lk_api_stats_errors(lk_request *r)
{
    answer(r, 1, errors_item);
}

void lk_api_stats_errors_7days(lk_request *r)
{
    answer(r, 7, errors_item);
}
