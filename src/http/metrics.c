/*
 * metrics — fixed arrays of relaxed atomic counters (see metrics.h). Statuses are
 * bucketed into the few a latchkey answer can have, so the arrays stay small.
 */
#include "http/metrics.h"
#include "http/routes.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define MAX_ROUTES 64
static const int STATUSES[] = {200, 400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 500, 503};
#define N_STATUSES (sizeof STATUSES / sizeof *STATUSES)
#define OTHER_STATUS N_STATUSES

static const double BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};
#define N_BUCKETS (sizeof BUCKETS / sizeof *BUCKETS)

static atomic_ullong requests[MAX_ROUTES + 1][N_STATUSES + 1];
static atomic_ullong latency[N_BUCKETS + 1];
static atomic_ullong latency_sum_ns, latency_count;
static atomic_ullong tokens_issued;
static atomic_ullong limit_rejections[LK_METRIC_LIMITS];

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (STATUSES[i] == status)
            return i;
    return OTHER_STATUS;
}

void lk_metrics_request(size_t route, int status, uint64_t duration_ns)
{
    if (route > MAX_ROUTES)
        route = MAX_ROUTES;
    atomic_fetch_add_explicit(&requests[route][status_slot(status)], 1, memory_order_relaxed);
    double secs = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < N_BUCKETS && secs > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_ns, duration_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
}

void lk_metrics_token_issued(void)
{
    atomic_fetch_add_explicit(&tokens_issued, 1, memory_order_relaxed);
}

void lk_metrics_limit_rejected(lk_metric_limit which)
{
    if (which < LK_METRIC_LIMITS)
        atomic_fetch_add_explicit(&limit_rejections[which], 1, memory_order_relaxed);
}

typedef struct text {
    lk_arena *a;
    char *buf;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = lk_arena_vprintf(t->a, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap + n + 1) * 2;
        t->buf = lk_arena_grow(t->a, t->buf, t->len, cap);
        t->cap = cap;
    }
    memcpy(t->buf + t->len, line, n + 1);
    t->len += n;
}

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

const char *lk_metrics_render(lk_arena *a)
{
    text t = {.a = a};
    put(&t, "# HELP latchkey_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE latchkey_http_requests_total counter\n");
    size_t n_routes = lk_route_count();
    for (size_t r = 0; r <= n_routes && r <= MAX_ROUTES; r++) {
        const char *name = r < n_routes ? lk_routes[r].name : "none";
        for (size_t s = 0; s <= N_STATUSES; s++) {
            unsigned long long v = load(&requests[r][s]);
            if (!v)
                continue;
            if (s < N_STATUSES)
                put(&t, "latchkey_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", name, STATUSES[s], v);
            else
                put(&t, "latchkey_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", name, v);
        }
    }
    put(&t, "# HELP latchkey_tokens_issued_total Access tokens minted.\n"
            "# TYPE latchkey_tokens_issued_total counter\nlatchkey_tokens_issued_total %llu\n",
        load(&tokens_issued));
    static const char *limits[LK_METRIC_LIMITS] = {"rate", "daily", "concurrent"};
    put(&t, "# HELP latchkey_limit_rejections_total REST calls refused by a limit (606, 607, 615).\n"
            "# TYPE latchkey_limit_rejections_total counter\n");
    for (int i = 0; i < LK_METRIC_LIMITS; i++)
        put(&t, "latchkey_limit_rejections_total{limit=\"%s\"} %llu\n", limits[i], load(&limit_rejections[i]));
    put(&t, "# HELP latchkey_http_request_duration_seconds Time from request to response.\n"
            "# TYPE latchkey_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        cum += load(&latency[b]);
        put(&t, "latchkey_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", BUCKETS[b], cum);
    }
    cum += load(&latency[N_BUCKETS]);
    put(&t, "latchkey_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    put(&t, "latchkey_http_request_duration_seconds_sum %.6f\n", (double)load(&latency_sum_ns) / 1e9);
    put(&t, "latchkey_http_request_duration_seconds_count %llu\n", load(&latency_count));
    return t.buf ? t.buf : "";
}
