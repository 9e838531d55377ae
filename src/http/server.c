/*
 * server — the libmicrohttpd glue (see server.h).
 *
 * Request lifecycle: the URI-log callback creates the lk_request (it sees the raw
 * URI, query string included, before anything else); the first access-handler call
 * only checks the declared body size and returns MHD_YES — answering on the first
 * call would make libmicrohttpd 0.9.75 drop keep-alive; body chunks are collected up
 * to the limit; the last call dispatches and queues the answer; the completion
 * callback logs, counts and resets. Everything a request allocates is in its arena.
 *
 * Request memory belongs to the connection: the conn_req (and the first chunk of its
 * arena) is allocated when libmicrohttpd accepts the connection, reset between the
 * requests of a keep-alive connection, and freed when the connection closes. So a
 * keep-alive request makes no allocation of a kilobyte or more: once many long-lived
 * blocks (100,000 tokens) fragment the heap, such allocations take glibc's slow path.
 * What is kept is bounded: one conn_req and one arena chunk (about 10 KB) per open
 * connection, within the connection limit.
 *
 * A request whose handler needs the store (lk_dispatch sets r->deferred) is
 * suspended, handed to the runtime's store worker, and resumed by the worker once
 * answered; libmicrohttpd then calls the access handler again, which sends it.
 */
#include "http/server.h"
#include "http/conncap.h"
#include "http/envelope.h"
#include "http/http.h"
#include "http/jsonout.h"
#include "http/metrics.h"
#include "http/routes.h"
#include "http/tls.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* one libmicrohttpd daemon on one socket: the public port, or the management one */
typedef struct listener {
    lk_server *srv;
    struct MHD_Daemon *daemon;   /* NULL: not started */
    int fd;                      /* the listening socket; ours to close once quiesced */
    bool quiesced;               /* no longer accepting; libmicrohttpd let go of fd */
    bool management;             /* serves only the LK_ROUTE_OPS routes */
    bool tls;
    char url[160];               /* "https://ADDR:PORT" */
} listener;

typedef struct conn_req conn_req;

struct lk_server {
    listener pub, mgmt;
    lk_runtime *rt;
    const lk_config *cfg;
    lk_cidr proxies[16];
    size_t n_proxies;
    lk_conncap *conncap;         /* per_ip_connection_limit with the trusted proxies left out
                                  * (NULL: none configured, libmicrohttpd's own cap) */
    atomic_int active;           /* requests between URI log and completion */
    atomic_int suspended;        /* requests waiting for the store worker (and reservations) */
    atomic_bool stopping;        /* lk_server_stop began: no request may be suspended any more */

    /* the header deadline (header_timeout): every open connection, and a thread that
     * shuts down those that have not sent a request's headers in time */
    pthread_mutex_t conns_mu;
    conn_req *conns;             /* doubly linked through conn_req.prev/next */
    pthread_cond_t reaper_cond;  /* CLOCK_MONOTONIC */
    pthread_t reaper;
    bool reaper_started, reaper_stop;
};

/* one per connection (its socket context); the fields after req are per request */
struct conn_req {
    lk_request req;
    bool in_use;                 /* between on_uri and on_completed */
    bool closed;                 /* the connection closed while in use: on_completed frees */
    bool started;
    bool uri_too_long;
    bool body_too_large;
    bool answered;               /* by the store worker; send it on the next call */
    lk_server *srv;
    const listener *lst;         /* the one the request came in on */
    char *body;
    size_t body_len, body_cap;
    /* the header deadline, under srv->conns_mu (but waiting_ms, written by the
     * connection's own thread, is atomic) */
    conn_req *prev, *next;
    int fd;
    bool listed;
    bool reaped;                 /* shut down by the header deadline */
    _Atomic int64_t waiting_ms;  /* monotonic ms since when it owes a request's headers; 0: not */
    atomic_bool kept_alive;      /* it answered before: idle time up to connection_timeout is fine */
    lk_ip peer;                  /* counted in srv->conncap (capped) until it closes */
    bool capped;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- request helpers (http.h) ------------------------------------------------- */

const char *lk_req_header(lk_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *lk_req_param(lk_request *r, const lk_form *body_form, const char *name)
{
    const char *v = r->query_ok ? lk_form_get(&r->query, name, NULL) : NULL;
    if (!v && body_form)
        v = lk_form_get(body_form, name, NULL);
    return v;
}

void lk_resp_header(lk_request *r, const char *name, const char *value)
{
    if (r->n_headers >= LK_MAX_RESP_HEADERS)
        return;
    r->headers[r->n_headers].name = lk_arena_strdup(&r->arena, name);
    r->headers[r->n_headers].value = lk_arena_strdup(&r->arena, value);
    r->n_headers++;
}

void lk_resp_text(lk_request *r, int status, const char *content_type, const char *text)
{
    r->status = status;
    r->content_type = content_type;
    r->resp = text;
    r->resp_len = strlen(text);
}

void lk_resp_json(lk_request *r, int status, json_t *body)
{
    const char *text = lk_json_text(&r->arena, body, NULL);
    json_decref(body);
    lk_resp_text(r, status, LK_JSON_TYPE, text ? text : "{}");
}

/* ---- client address -------------------------------------------------------------- */

static void sockaddr_ip(const struct sockaddr *sa, lk_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    if (sa && sa->sa_family == AF_INET) {
        ip->family = 4;
        memcpy(ip->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            ip->family = 4;
            memcpy(ip->addr, a + 12, 4);
        } else {
            ip->family = 6;
            memcpy(ip->addr, a, 16);
        }
    }
}

static bool is_proxy(const lk_server *s, const lk_ip *ip)
{
    for (size_t i = 0; i < s->n_proxies; i++)
        if (lk_cidr_contains(&s->proxies[i], ip))
            return true;
    return false;
}

/* libmicrohttpd's accept policy: the cap per address, trusted proxies left out (conncap.h) */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    const listener *l = cls;
    lk_server *s = l->srv;
    (void)addrlen;
    if (l->management || !s->conncap)
        return MHD_YES;
    lk_ip ip;
    sockaddr_ip(addr, &ip);
    return is_proxy(s, &ip) || lk_conncap_admits(s->conncap, &ip) ? MHD_YES : MHD_NO;
}

/* the peer, or — when the peer is a trusted proxy — the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy */
static void client_address(lk_server *s, lk_request *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    sockaddr_ip(ci ? ci->client_addr : NULL, &r->client);
    bool proxied = s->n_proxies && is_proxy(s, &r->client);
    r->proxied = proxied;
    const char *proto = proxied ? lk_req_header(r, "X-Forwarded-Proto") : NULL;
    r->https = proto && strcasecmp(proto, "https") == 0;
    const char *xff = proxied ? lk_req_header(r, "X-Forwarded-For") : NULL;
    if (xff && strlen(xff) < 4096) {
        char *copy = lk_arena_strdup(&r->arena, xff);
        for (;;) {
            char *comma = strrchr(copy, ',');
            char *item = comma ? comma + 1 : copy;
            while (*item == ' ' || *item == '\t')
                item++;
            char *end = item + strlen(item);
            while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = '\0';
            lk_ip ip;
            if (!lk_ip_parse(item, &ip))
                break;
            r->client = ip;
            if (!is_proxy(s, &ip) || !comma)
                break;
            *comma = '\0';
        }
    }
    lk_ip_format(&r->client, r->client_text);
}

/* a proxy's request id is taken only when it is a plain token: it goes into every
 * log line and answer of the request */
static bool request_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return false;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:#/+=@~") == n;
}

/* The request's id: the X-Request-Id of a trusted proxy (the peer itself, as for
 * X-Forwarded-For) when it is a plain token of at most 128 characters, else a new
 * one (lk_request_id). */
static void take_request_id(lk_server *s, lk_request *r, struct MHD_Connection *conn)
{
    const char *given = NULL;
    if (s->n_proxies) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        lk_ip peer;
        sockaddr_ip(ci ? ci->client_addr : NULL, &peer);
        if (is_proxy(s, &peer))
            given = lk_req_header(r, "X-Request-Id");
    }
    if (given && request_id_ok(given))
        r->request_id = lk_arena_strdup(&r->arena, given);
    else
        lk_request_id(r);
}

/* ---- libmicrohttpd callbacks --------------------------------------------------------- */

static int64_t mono_ms(void)
{
    return (int64_t)(mono_ns() / 1000000ULL);
}

static void conn_list(lk_server *s, conn_req *c)
{
    pthread_mutex_lock(&s->conns_mu);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    c->listed = true;
    pthread_mutex_unlock(&s->conns_mu);
}

static void conn_unlist(lk_server *s, conn_req *c)
{
    pthread_mutex_lock(&s->conns_mu);
    if (c->listed) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        c->prev = c->next = NULL;
        c->listed = false;
    }
    pthread_mutex_unlock(&s->conns_mu);
}

static void conn_req_free(conn_req *c)
{
    lk_arena_free(&c->req.arena);
    free(c->body);
    free(c);
}

/* A connection is listed from its start to its close, with the instant since which it
 * owes a request's headers. libmicrohttpd reports the close before it closes the
 * socket, so a listed connection's fd is still its own (see reap). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    const listener *lst = cls;
    lk_server *s = lst->srv;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_req *c = lk_xcalloc(1, sizeof(conn_req));
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        atomic_store(&c->waiting_ms, mono_ms());
        if (c->fd >= 0)
            conn_list(s, c);
        if (s->conncap && !lst->management) {
            ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            sockaddr_ip(ci ? ci->client_addr : NULL, &c->peer);
            c->capped = c->peer.family != 0 && !is_proxy(s, &c->peer);
            if (c->capped)
                lk_conncap_add(s->conncap, &c->peer);
        }
        *socket_context = c;
        return;
    }
    conn_req *c = *socket_context;
    *socket_context = NULL;
    if (!c)
        return;
    conn_unlist(s, c);
    if (c->capped)
        lk_conncap_remove(s->conncap, &c->peer);
    c->capped = false;
    /* libmicrohttpd reports a request's completion before its connection's close;
     * should it ever not, the completion frees */
    if (c->in_use)
        c->closed = true;
    else
        conn_req_free(c);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const listener *lst = cls;
    lk_server *s = lst->srv;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_req *c = ci ? ci->socket_context : NULL;
    if (!c || c->in_use) {
        c = lk_xcalloc(1, sizeof *c); /* not expected: a request of its own, freed on completion */
        c->closed = true;
    } else {
        /* the previous request left only the arena's first chunk (lk_arena_reset) */
        lk_arena arena = c->req.arena;
        memset(&c->req, 0, sizeof c->req);
        c->req.arena = arena;
        c->started = c->uri_too_long = c->body_too_large = c->answered = false;
        c->body_len = 0;
    }
    c->in_use = true;
    c->srv = s;
    c->lst = lst;
    c->req.rt = s->rt;
    c->req.management = lst->management;
    c->req.conn = conn;
    c->req.started_ns = mono_ns();
    c->req.now = lk_time_now();
    atomic_fetch_add(&s->active, 1);
    size_t len = strlen(uri);
    if ((int64_t)len > s->cfg->uri_limit) {
        c->uri_too_long = true;
        c->req.query_ok = true;
        return c;
    }
    const char *q = strchr(uri, '?');
    c->req.query_ok = !q || lk_form_parse(&c->req.arena, q + 1, len - (size_t)(q + 1 - uri), &c->req.query);
    return c;
}

/* The body is not copied: it is in the request's arena or static, and the arena is
 * reset only in on_completed, once libmicrohttpd has sent the answer or given up. */
static enum MHD_Result send_answer(struct MHD_Connection *conn, lk_request *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp_len, (void *)(uintptr_t)r->resp, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    /* every answer: no content sniffing, no framing (the console's CSP adds
     * frame-ancestors 'none') */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    for (size_t i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    if (r->request_id)
        MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void plain_error(lk_request *r, int status, const char *error, const char *text)
{
    lk_resp_json(r, status, json_pack("{s:s, s:s}", "error", error, "error_description", text));
}

/* on the store worker: answer, then let libmicrohttpd call on_request again */
static void run_deferred(void *arg, lk_store *store)
{
    conn_req *c = arg;
    c->req.store = store;
    lk_log_request_id(c->req.request_id);
    if (store) {
        lk_dispatch_deferred(&c->req);
    } else {
        /* the server is stopping and the call had not started: 503, the store untouched */
        lk_dispatch_cancel(&c->req);
        lk_resp_header(&c->req, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    lk_log_request_id(NULL);
    c->req.store = NULL;
    if (!c->req.status)
        plain_error(&c->req, 500, "server_error", "no answer was produced");
    c->answered = true;
    lk_server *s = c->srv;
    MHD_resume_connection(c->req.conn);
    atomic_fetch_sub(&s->suspended, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    lk_server *s = ((const listener *)cls)->srv;
    conn_req *c = *con_cls;
    lk_request *r = &c->req;
    (void)version;
    if (c->answered)
        return send_answer(conn, r);
    if (!c->started) {
        c->started = true;
        atomic_store(&c->waiting_ms, 0); /* the headers are in */
        r->method = lk_arena_strdup(&r->arena, method);
        r->path = lk_arena_strdup(&r->arena, url);
        client_address(s, r, conn);
        if (c->lst->tls)
            r->https = true;
        take_request_id(s, r, conn);
        const char *cl = lk_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoll(cl, NULL, 10) > s->cfg->body_limit)
            c->body_too_large = true;
        if (c->uri_too_long || c->body_too_large) {
            /* refuse at once: the connection closes, the body is not read */
            if (c->uri_too_long)
                plain_error(r, 414, "uri_too_long", "the request URI is longer than the server accepts");
            else
                plain_error(r, 413, "payload_too_large", "the request body is larger than the server accepts");
            return send_answer(conn, r);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!c->body_too_large) {
            if ((int64_t)(c->body_len + *upload_size) > s->cfg->body_limit) {
                c->body_too_large = true;
            } else {
                if (c->body_len + *upload_size + 1 > c->body_cap) {
                    c->body_cap = (c->body_len + *upload_size + 1) * 2;
                    if ((int64_t)c->body_cap > s->cfg->body_limit + 1)
                        c->body_cap = (size_t)s->cfg->body_limit + 1;
                    c->body = lk_xrealloc(c->body, c->body_cap);
                }
                memcpy(c->body + c->body_len, upload_data, *upload_size);
                c->body_len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->body_too_large) {
        plain_error(r, 413, "payload_too_large", "the request body is larger than the server accepts");
        return send_answer(conn, r);
    }
    if (c->body)
        c->body[c->body_len] = '\0';
    r->body = c->body ? c->body : "";
    r->body_len = c->body_len;
    /* a reservation before dispatch: lk_server_stop either sees it and waits, or a
     * request for the store worker sees `stopping` and is refused (sequentially
     * consistent atomics) — so none is suspended once the daemon may stop */
    atomic_fetch_add(&s->suspended, 1);
    lk_log_request_id(r->request_id);
    lk_dispatch(r);
    lk_dispatch_release(r); /* nothing of the catalog is held across a suspension */
    lk_log_request_id(NULL);
    if (r->deferred && !atomic_load(&s->stopping)) {
        MHD_suspend_connection(conn);
        if (r->password_pool)
            lk_runtime_defer_password(s->rt, run_deferred, c);
        else
            lk_runtime_defer(s->rt, run_deferred, c);
        return MHD_YES;
    }
    atomic_fetch_sub(&s->suspended, 1);
    if (r->deferred) {
        /* admitted, but the store worker takes nothing more once stopping began */
        lk_dispatch_cancel(r);
        lk_resp_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (!r->status)
        plain_error(r, 500, "server_error", "no answer was produced");
    return send_answer(conn, r);
}

/* s as the bytes of a URL: outside printable ASCII, the space, '"', '\\' and '%' as
 * %XX, cut to fit out — what a client sent (a method, a path) reads the same in any
 * log viewer and cannot look like a field or a terminal escape */
static const char *url_bytes(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = s ? s : "-"; *p && k < cap - 4; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '%')
            k += (size_t)snprintf(out + k, cap - k, "%%%02X", ch);
        else
            out[k++] = (char)ch;
    }
    out[k] = '\0';
    return out;
}

/* One record per request (util/log.h: logfmt or JSON). The path is printed without
 * the query (it may hold secrets); method and path percent-encoded (url_bytes); the
 * client id only when it has a client id's shape. */
static void access_log(const lk_request *r, uint64_t ns)
{
    lk_log_line l;
    lk_log_begin(&l, r->status >= 500 && r->status != 503 ? LK_LOG_ERROR : LK_LOG_INFO, "request");
    if (!l.on)
        return;
    char path[256], method[48];
    lk_log_str(&l, "addr", r->client_text[0] ? r->client_text : NULL);
    lk_log_str(&l, "method", url_bytes(r->method, method, sizeof method));
    lk_log_qstr(&l, "path", url_bytes(r->path, path, sizeof path));
    lk_log_int(&l, "status", r->status);
    lk_log_str(&l, "code", r->code);
    lk_log_str(&l, "user", r->who);
    if (r->client_id)
        lk_log_str(&l, "client_id", r->client_id);
    lk_log_num(&l, "duration_ms", (double)ns / 1e6, 3);
    lk_log_end(&l);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    lk_server *s = ((const listener *)cls)->srv;
    conn_req *c = *con_cls;
    (void)conn;
    (void)toe;
    if (!c)
        return;
    uint64_t ns = mono_ns() - c->req.started_ns;
    if (c->started) {
        lk_metrics_request(lk_route_index(c->req.route), lk_route_family_of(c->req.route), c->req.status, ns);
        if (s->cfg->access_log) {
            lk_log_request_id(c->req.request_id);
            access_log(&c->req, ns);
            lk_log_request_id(NULL);
        }
    }
    c->in_use = false;
    if (c->closed) {
        conn_req_free(c);
    } else {
        atomic_store(&c->kept_alive, true);
        atomic_store(&c->waiting_ms, mono_ms()); /* a keep-alive connection owes the next headers */
        lk_arena_reset(&c->req.arena);
        if (c->body_cap > 4096) {
            free(c->body); /* a large body's buffer is not kept for the next request */
            c->body = NULL;
            c->body_cap = 0;
        }
    }
    *con_cls = NULL;
    atomic_fetch_sub(&s->active, 1);
}

/* ---- start and stop ---------------------------------------------------------------- */

static bool parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || strlen(listen) >= sizeof host)
        return false;
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!*(colon + 1) || *end || port < 0 || port > 65535)
        return false;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}

static void load_proxies(lk_server *s)
{
    char list[LK_CONFIG_STR];
    snprintf(list, sizeof list, "%s", s->cfg->trusted_proxies);
    for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok && s->n_proxies < 16;
         tok = strtok_r(NULL, ", ", &save))
        if (lk_cidr_parse(tok, &s->proxies[s->n_proxies], NULL))
            s->n_proxies++;
}

/* libmicrohttpd's own complaints (a TLS handshake that failed, a client that broke
 * the protocol) as log records; mostly about clients, so at level info, as nginx does */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    lk_log(LK_LOG_INFO, "http: %s", msg);
}

/* binds addr; the socket, or -1 with err */
static int bind_socket(const char *what, const char *addr, char *bound, size_t bound_len, bool *v6, char *err,
                       size_t err_len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!parse_listen(addr, &ss, &sl)) {
        snprintf(err, err_len, "%s: '%s' is not ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", what, addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char host[INET6_ADDRSTRLEN] = "";
    *v6 = ss.ss_family == AF_INET6;
    if (*v6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(bound, bound_len, "[%s]:%u", host, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(bound, bound_len, "%s:%u", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    return fd;
}

/* binds and starts one listener; false with err */
static bool start_listener(lk_server *s, listener *l, const char *what, const char *addr, unsigned threads,
                           unsigned connections, unsigned per_ip, char *err, size_t err_len)
{
    char bound[128];
    bool v6 = false;
    l->srv = s;
    l->fd = bind_socket(what, addr, bound, sizeof bound, &v6, err, err_len);
    if (l->fd < 0)
        return false;
    snprintf(l->url, sizeof l->url, "%s://%s", l->tls ? "https" : "http", bound);
    const lk_config *cfg = s->cfg;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* TLS (tls.h): the certificate comes from a callback, so that SIGHUP can swap it */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)lk_tls_callback()},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)LK_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    if (l->tls)
        flags |= MHD_USE_TLS;
    else
        tls_opts[0].option = MHD_OPTION_END;
    l->daemon = MHD_start_daemon(flags, 0, on_accept, l, on_request, l,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, as it asks */
                                 MHD_OPTION_LISTEN_SOCKET, l->fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
                                 MHD_OPTION_CONNECTION_LIMIT, connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                                 /* at most 32 KB with the default URI limit: libmicrohttpd
                                  * 0.9.75 mmaps larger pools for every connection */
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(cfg->uri_limit + 16384 > 32768
                                                                              ? cfg->uri_limit + 16384 : 32768),
                                 MHD_OPTION_ARRAY, tls_opts,
                                 MHD_OPTION_END);
    if (!l->daemon) {
        snprintf(err, err_len, "could not start the HTTP server on %s", bound);
        close(l->fd);
        l->fd = -1;
        return false;
    }
    return true;
}

/* ---- the header deadline -------------------------------------------------------- */

/* libmicrohttpd's connection timeout starts again with every byte, so a client that
 * sends a header byte every few seconds would hold its connection for ever. Here a
 * connection that owes a request's headers for longer than header_timeout since its
 * accept — or, on keep-alive, longer than the larger of header_timeout and
 * connection_timeout since its previous answer — is shut down: the event loop
 * then sees the end of the stream and closes it as usual. Its fd is still its own:
 * on_connection unlists it, under conns_mu, before libmicrohttpd closes the socket.
 * A request past its headers (reading its body, on the store worker, answering) is
 * left alone. */
#define REAP_EVERY_MS 250

static void reap(lk_server *s, int64_t now, int64_t limit_ms, int64_t idle_ms)
{
    pthread_mutex_lock(&s->conns_mu);
    for (conn_req *c = s->conns; c; c = c->next) {
        int64_t since = atomic_load(&c->waiting_ms);
        if (!since || c->reaped || now - since < (atomic_load(&c->kept_alive) ? idle_ms : limit_ms))
            continue;
        c->reaped = true;
        shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->conns_mu);
}

static void *reaper(void *arg)
{
    lk_server *s = arg;
    /* after an answer, a keep-alive connection may first idle (connection_timeout) */
    int64_t limit_ms = s->cfg->header_timeout * 1000;
    int64_t idle_ms = s->cfg->connection_timeout * 1000 > limit_ms ? s->cfg->connection_timeout * 1000 : limit_ms;
    pthread_mutex_lock(&s->conns_mu);
    while (!s->reaper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAP_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->reaper_cond, &s->conns_mu, &until);
        if (s->reaper_stop)
            break;
        pthread_mutex_unlock(&s->conns_mu);
        reap(s, mono_ms(), limit_ms, idle_ms);
        pthread_mutex_lock(&s->conns_mu);
    }
    pthread_mutex_unlock(&s->conns_mu);
    return NULL;
}

static bool start_reaper(lk_server *s, char *err, size_t err_len)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->reaper_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->reaper_started = pthread_create(&s->reaper, NULL, reaper, s) == 0;
    if (!s->reaper_started) {
        pthread_cond_destroy(&s->reaper_cond);
        snprintf(err, err_len, "could not start the header deadline's thread");
    }
    return s->reaper_started;
}

static void stop_reaper(lk_server *s)
{
    if (!s->reaper_started)
        return;
    pthread_mutex_lock(&s->conns_mu);
    s->reaper_stop = true;
    pthread_cond_signal(&s->reaper_cond);
    pthread_mutex_unlock(&s->conns_mu);
    pthread_join(s->reaper, NULL);
    pthread_cond_destroy(&s->reaper_cond);
    s->reaper_started = false;
}

/* stops accepting; connections open go on */
static void quiesce_listener(listener *l)
{
    if (!l->daemon || l->quiesced)
        return;
    l->quiesced = true;
    MHD_quiesce_daemon(l->daemon);
}

static void stop_listener(listener *l)
{
    if (!l->daemon)
        return;
    quiesce_listener(l);
    MHD_stop_daemon(l->daemon);
    l->daemon = NULL;
    close(l->fd);
    l->fd = -1;
}

lk_server *lk_server_start(lk_runtime *rt, char *err, size_t err_len)
{
    const lk_config *cfg = lk_runtime_config(rt);
    lk_server *s = lk_xcalloc(1, sizeof *s);
    s->rt = rt;
    s->cfg = cfg;
    s->pub.fd = s->mgmt.fd = -1;
    s->mgmt.management = true;
    load_proxies(s);
    if (cfg->tls_cert_file[0]) {
        if (!lk_tls_load(cfg->tls_cert_file, cfg->tls_key_file, err, err_len)) {
            free(s);
            return NULL;
        }
        s->pub.tls = true;
    }
    unsigned per_ip = (unsigned)cfg->per_ip_connection_limit;
    if (per_ip > 0 && s->n_proxies > 0) {
        s->conncap = lk_conncap_new(per_ip);
        per_ip = 0; /* counted here, the proxies left out */
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(cfg->threads > 0 ? cfg->threads : (cores > 0 ? cores : 1));
    pthread_mutex_init(&s->conns_mu, NULL);
    if (!start_listener(s, &s->pub, "listen", cfg->listen, threads, (unsigned)cfg->connection_limit,
                        per_ip, err, err_len) ||
        (cfg->management_listen[0] &&
         !start_listener(s, &s->mgmt, "management_listen", cfg->management_listen, 1, 64, 0, err, err_len)) ||
        !start_reaper(s, err, err_len)) {
        stop_listener(&s->mgmt);
        stop_listener(&s->pub);
        pthread_mutex_destroy(&s->conns_mu);
        lk_conncap_free(s->conncap);
        lk_tls_free();
        free(s);
        return NULL;
    }
    lk_runtime_default_public_url(rt, s->pub.url);
    /* metrics get the route labels here, so that they need not know the route table */
    const char *names[64];
    size_t n = 0;
    for (; lk_routes[n].path && n < sizeof names / sizeof *names; n++)
        names[n] = lk_routes[n].name;
    lk_metrics_start(names, n);
    return s;
}

const char *lk_server_url(const lk_server *s)
{
    return s->pub.url;
}

const char *lk_server_management_url(const lk_server *s)
{
    return s->mgmt.daemon ? s->mgmt.url : NULL;
}

bool lk_server_reload_tls(lk_server *s, char *err, size_t err_len)
{
    if (!s->pub.tls) {
        snprintf(err, err_len, "TLS is not configured (tls_cert_file, tls_key_file)");
        return false;
    }
    return lk_tls_reload(err, err_len);
}

/* how long a stop waits, after the last call, for the answers still to be sent */
#define FLUSH_MS 2000

/* until no request is between its URI and its completion, for ms at most */
static void wait_inactive(lk_server *s, int ms)
{
    int64_t deadline = mono_ms() + ms;
    while (atomic_load(&s->active) > 0 && mono_ms() < deadline)
        usleep(10000);
}

void lk_server_stop(lk_server *s, int grace_ms)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    quiesce_listener(&s->pub);
    quiesce_listener(&s->mgmt);
    wait_inactive(s, grace_ms);
    /* libmicrohttpd must not stop with a suspended connection. Calls still queued for
     * the store worker or the password pool are answered 503 at once; those running
     * finish (each bounded by the store's busy timeout); no request is suspended
     * after `stopping` (see on_request). */
    lk_runtime_cancel_store_calls(s->rt);
    while (atomic_load(&s->suspended) > 0)
        usleep(10000);
    /* the answers just made (503 for the cancelled, the last calls' own) are still to be
     * sent by the daemon's threads, and stopping it closes every connection: a moment
     * for them to go out, bounded (a client that does not read would hold it) */
    wait_inactive(s, FLUSH_MS);
    stop_reaper(s);
    stop_listener(&s->mgmt);
    stop_listener(&s->pub);
    pthread_mutex_destroy(&s->conns_mu);
    lk_conncap_free(s->conncap);
    lk_tls_free();
    free(s);
}
