/*
 * metrics — fixed arrays of relaxed atomic counters (see metrics.h). Statuses are
 * bucketed into the few a latchkey answer can have, so the arrays stay small. The
 * process figures come from getrusage(2), /proc/self/statm and /proc/self/fd, read
 * when /metrics is asked (memory only, no disk).
 */
#include "http/metrics.h"
#include "runtime/readiness.h"

#include <dirent.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 64
static const int STATUSES[] = {200, 400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 500, 503};
#define N_STATUSES (sizeof STATUSES / sizeof *STATUSES)
#define OTHER_STATUS N_STATUSES

/* from 100 µs (a token check) to 10 s (a console sign-in's Argon2id under load) */
static const double BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0};
#define N_BUCKETS (sizeof BUCKETS / sizeof *BUCKETS)

static const char *const FAMILIES[LK_FAMILY_COUNT] = {
    [LK_FAMILY_TOKEN] = "token",         [LK_FAMILY_REST] = "rest",       [LK_FAMILY_USERMGMT] = "usermgmt",
    [LK_FAMILY_CONSOLE_API] = "console_api", [LK_FAMILY_CONSOLE] = "console", [LK_FAMILY_OPS] = "ops",
    [LK_FAMILY_NONE] = "none",
};

static atomic_ullong requests[MAX_ROUTES + 1][N_STATUSES + 1];
static atomic_ullong latency[LK_FAMILY_COUNT][N_BUCKETS + 1];
static atomic_ullong latency_sum_ns[LK_FAMILY_COUNT], latency_count[LK_FAMILY_COUNT];
static atomic_ullong tokens_issued;
static atomic_ullong limit_rejections[LK_METRIC_LIMITS];
static double start_time;
static const char *route_names[MAX_ROUTES];
static size_t n_route_names;

void lk_metrics_start(const char *const *names, size_t n)
{
    n_route_names = n < MAX_ROUTES ? n : MAX_ROUTES;
    for (size_t i = 0; i < n_route_names; i++)
        route_names[i] = names[i];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (STATUSES[i] == status)
            return i;
    return OTHER_STATUS;
}

void lk_metrics_request(size_t route, lk_route_family family, int status, uint64_t duration_ns)
{
    if (route > n_route_names)
        route = n_route_names; /* "none" */
    if ((unsigned)family >= LK_FAMILY_COUNT)
        family = LK_FAMILY_NONE;
    atomic_fetch_add_explicit(&requests[route][status_slot(status)], 1, memory_order_relaxed);
    double secs = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < N_BUCKETS && secs > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&latency[family][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_ns[family], duration_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count[family], 1, memory_order_relaxed);
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

/* ---- process figures ------------------------------------------------------------- */

static long long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static void process_metrics(text *t)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
    put(t, "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n"
           "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n", cpu);
    long long vsz = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &vsz, &rss) != 2)
            vsz = rss = 0;
        fclose(f);
    }
    long page = sysconf(_SC_PAGESIZE);
    put(t, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
           "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n", rss * page);
    put(t, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
           "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lld\n", vsz * page);
    put(t, "# HELP process_open_fds Open file descriptors.\n"
           "# TYPE process_open_fds gauge\nprocess_open_fds %lld\n", open_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        put(t, "# HELP process_max_fds The most file descriptors the process may open.\n"
               "# TYPE process_max_fds gauge\nprocess_max_fds %lld\n", (long long)rl.rlim_cur);
    put(t, "# HELP process_start_time_seconds Start of the process since the Unix epoch, in seconds.\n"
           "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n", start_time);
}

/* ---- gauges of the running state ----------------------------------------------------- */

static void gauge(text *t, const char *name, const char *help, double v)
{
    put(t, "# HELP %s %s\n# TYPE %s gauge\n%s %.15g\n", name, help, name, name, v);
}

static void state_metrics(text *t, lk_runtime *rt)
{
    lk_readiness rd;
    lk_readiness_check(rt, &rd);
    const lk_runtime_gauges *g = &rd.gauges;
    gauge(t, "latchkey_ready", "1 when /readyz says ready, else 0.", rd.ready);
    put(t, "# HELP latchkey_ready_check 1 when the readiness check passes, else 0.\n"
           "# TYPE latchkey_ready_check gauge\n");
    for (int i = 0; i < LK_READY_CHECKS; i++)
        put(t, "latchkey_ready_check{check=\"%s\"} %d\n", rd.check[i].name, rd.check[i].ok);
    gauge(t, "latchkey_catalog_generation", "Position in the database's change feed the in-memory catalog reflects.",
          (double)g->catalog_generation);
    gauge(t, "latchkey_catalog_age_seconds", "Seconds since the catalog was last found to match the database.",
          (double)g->catalog_age_ms / 1e3);
    gauge(t, "latchkey_services", "Custom services in the catalog.", (double)g->services);
    gauge(t, "latchkey_api_users", "API-only users in the catalog.", (double)g->api_users);
    gauge(t, "latchkey_catalog_retired", "Catalog entries replaced by changes and not yet freed (a reader may hold them).",
          (double)g->retired);
    gauge(t, "latchkey_catalog_full_loads", "Full loads of the catalog since start (at start, or after the change feed was pruned past it).",
          (double)g->full_loads);
    gauge(t, "latchkey_tokens_revoked", "Revoked access tokens held in memory (until a day after they expire); issued "
          "tokens are not held: they verify themselves.", (double)g->revoked_tokens);
    gauge(t, "latchkey_token_signing_key", "Id of the key that signs new access tokens (latchkey key list).",
          (double)g->signing_key);
    gauge(t, "latchkey_peers", "Other latchkey serve processes on the database seen alive at the last sync of the limits.",
          (double)g->peers);
    gauge(t, "latchkey_limits_sync_seconds", "How long the last sync of the limits with the other processes took.",
          (double)g->limits_sync_us / 1e6);
    gauge(t, "latchkey_writer_pending", "Usage records waiting for the background writer.",
          (double)g->pending_writes);
    gauge(t, "latchkey_writer_lag_seconds", "Seconds since the background writer last wrote (or had nothing to).",
          (double)g->writer_lag_ms / 1e3);
    put(t, "# HELP latchkey_write_failures_total Background writes that failed (and are retried).\n"
           "# TYPE latchkey_write_failures_total counter\nlatchkey_write_failures_total %lld\n",
        (long long)g->write_failures);
    gauge(t, "latchkey_store_worker_queue_length", "Calls waiting for or running on the store worker.",
          (double)g->store_jobs);
    gauge(t, "latchkey_store_worker_oldest_seconds", "Seconds the oldest call for the store worker has waited.",
          (double)g->store_wait_ms / 1e3);
    gauge(t, "latchkey_password_pool_queue_length", "Password checks waiting for or running on the password pool.",
          (double)g->password_jobs);
    gauge(t, "latchkey_password_pool_oldest_seconds", "Seconds the oldest call for the password pool has waited.",
          (double)g->password_wait_ms / 1e3);
    const lk_probe_state *p = &rd.probe;
    gauge(t, "latchkey_database_writable", "1 when the last probe had the database's write lock in time, else 0.",
          p->probed && p->db_ok);
    gauge(t, "latchkey_database_probe_seconds", "How long the last probe waited for the write lock.",
          (double)p->db_ms / 1e3);
    static const char *const states[4] = {"queued", "sent", "failed", "cancelled"};
    if (p->mail[0] >= 0) {
        put(t, "# HELP latchkey_mail_messages Messages in the mail queue by state (counted every 5 s).\n"
               "# TYPE latchkey_mail_messages gauge\n");
        for (int i = 0; i < 4; i++)
            put(t, "latchkey_mail_messages{state=\"%s\"} %lld\n", states[i], (long long)p->mail[i]);
    }
}

const char *lk_metrics_render(lk_arena *a, lk_runtime *rt)
{
    text t = {.a = a};
    put(&t, "# HELP latchkey_build_info The running build (always 1).\n# TYPE latchkey_build_info gauge\n"
            "latchkey_build_info{version=\"%s\",libmicrohttpd=\"%s\"} 1\n",
        LK_VERSION, MHD_get_version());
    process_metrics(&t);
    state_metrics(&t, rt);
    put(&t, "# HELP latchkey_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE latchkey_http_requests_total counter\n");
    for (size_t r = 0; r <= n_route_names && r <= MAX_ROUTES; r++) {
        const char *name = r < n_route_names ? route_names[r] : "none";
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
    put(&t, "# HELP latchkey_http_request_duration_seconds Time from request to response, by route family.\n"
            "# TYPE latchkey_http_request_duration_seconds histogram\n");
    for (int f = 0; f < LK_FAMILY_COUNT; f++) {
        unsigned long long cum = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += load(&latency[f][b]);
            put(&t, "latchkey_http_request_duration_seconds_bucket{family=\"%s\",le=\"%g\"} %llu\n", FAMILIES[f],
                BUCKETS[b], cum);
        }
        cum += load(&latency[f][N_BUCKETS]);
        put(&t, "latchkey_http_request_duration_seconds_bucket{family=\"%s\",le=\"+Inf\"} %llu\n", FAMILIES[f], cum);
        put(&t, "latchkey_http_request_duration_seconds_sum{family=\"%s\"} %.6f\n", FAMILIES[f],
            (double)load(&latency_sum_ns[f]) / 1e9);
        put(&t, "latchkey_http_request_duration_seconds_count{family=\"%s\"} %llu\n", FAMILIES[f],
            load(&latency_count[f]));
    }
    return t.buf ? t.buf : "";
}
