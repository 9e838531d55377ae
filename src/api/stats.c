/*
 * stats — the usage statistics endpoints (reference §9): calls per day per API
 * user and errors per day per code, for today or the last 7 days, in the quota
 * time zone. Served from the runtime's in-memory counts; no permission needed
 * beyond a valid token.
 */
#include "api/api.h"
#include "http/envelope.h"

static json_t *usage_item(lk_request *r, const char *day)
{
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_day(lk_runtime_usage(r->rt), &r->arena, day, &calls, &n_calls, &errors, &n_errors);
    json_t *users = json_array();
    json_int_t total = 0;
    for (size_t i = 0; i < n_calls; i++) {
        json_array_append_new(users, json_pack("{s:s, s:I}", "userId", calls[i].user_email, "count",
                                               (json_int_t)calls[i].count));
        total += calls[i].count;
    }
    return json_pack("{s:s, s:I, s:o}", "date", day, "total", total, "users", users);
}

static json_t *errors_item(lk_request *r, const char *day)
{
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_day(lk_runtime_usage(r->rt), &r->arena, day, &calls, &n_calls, &errors, &n_errors);
    json_t *list = json_array();
    json_int_t total = 0;
    for (size_t i = 0; i < n_errors; i++) {
        json_array_append_new(list, json_pack("{s:s, s:I}", "errorCode", errors[i].code, "count",
                                              (json_int_t)errors[i].count));
        total += errors[i].count;
    }
    return json_pack("{s:s, s:I, s:o}", "date", day, "total", total, "errors", list);
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
    answer(r, 1, usage_item);
}

void lk_api_stats_usage_7days(lk_request *r)
{
    answer(r, 7, usage_item);
}

void lk_api_stats_errors(lk_request *r)
{
    answer(r, 1, errors_item);
}

void lk_api_stats_errors_7days(lk_request *r)
{
    answer(r, 7, errors_item);
}
