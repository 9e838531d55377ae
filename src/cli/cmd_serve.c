/*
 * cmd_serve — `latchkey serve`: loads the configuration, opens the runtime (store,
 * catalog, tokens, counts; the schema is migrated), starts the HTTP server, logs
 * `listening on http://ADDR:PORT` once the socket accepts, hands out the
 * first-administrator setup link while there is none, and on SIGTERM or SIGINT stops
 * accepting, lets requests in flight finish (calls still queued for the store get
 * 503), writes the usage counts (retrying for stop_write_timeout) and exits 0 — or 3,
 * saying what was lost, when they could not be written. SIGHUP reloads the TLS
 * certificate and key and the token key file and writes the counts; it never stops
 * the server.
 * Run by root on a database another user owns, it becomes that user first
 * (util/runas.h); while it runs it holds the database against `latchkey restore`
 * (store/backup.h).
 *
 * Once the configuration is read, everything the server says is a log record
 * (util/log.h); a failure to start is one plain line `latchkey: …` and a non-zero
 * exit, as for every command.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/session.h"
#include "http/server.h"
#include "http/tls.h"
#include "runtime/runtime.h"
#include "store/backup.h"
#include "store/store.h"
#include "util/log.h"
#include "util/runas.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GRACE_MS 10000
#define HANGUP_WRITE_MS 5000 /* SIGHUP waits this long for the counts to be written */

/* Where the setup link goes when stderr is no terminal: next to the database, as
 * "<database>-setup-link"; for a database that is no file (PostgreSQL), as
 * "latchkey-setup-link" in the token key file's folder (arena). */
static const char *setup_link_file(lk_arena *a, const lk_config *cfg)
{
    const char *db = lk_store_default_location(cfg->db[0] ? cfg->db : NULL);
    char file[4096];
    if (lk_store_file_path(db, file, sizeof file))
        return lk_arena_printf(a, "%s-setup-link", file);
    char dir[4096];
    lk_store_side_dir(db, cfg->token_key_file, dir, sizeof dir);
    return lk_arena_printf(a, "%s/latchkey-setup-link", dir);
}

/* The link into a new file of mode 0600 (an old one, or whatever a name the
 * attacker may have planted there is, is removed first, never followed). */
static bool write_link(const char *file, const char *link, char *why, size_t why_len)
{
    if (unlink(file) != 0 && errno != ENOENT) {
        snprintf(why, why_len, "%s", strerror(errno));
        return false;
    }
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return false;
    }
    size_t n = strlen(link);
    bool ok = write(fd, link, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (!ok)
        snprintf(why, why_len, "%s", strerror(errno));
    close(fd);
    if (!ok)
        unlink(file);
    return ok;
}

/* With no administrator yet, a single-use setup link (PRODUCT.md §6), valid for a
 * day (core/session.h). The token is in the fragment, which browsers never send. It
 * is shown on a terminal; otherwise (a service manager's journal, a log file) it is
 * written to a file only this user can read, and the log says where -- never the
 * link itself. Once an administrator exists, a leftover file is removed. */
static void print_setup_link(const lk_config *cfg, const char *public_url)
{
    lk_error e = {0};
    lk_store *store = lk_store_open(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), LK_STORE_WRITE, &e);
    if (!store)
        return;
    lk_arena a = LK_ARENA_INIT;
    lk_op op;
    lk_op_init(&op, store, &a, "system", "");
    lk_session_token t;
    const char *file = setup_link_file(&a, cfg);
    if (lk_setup_open(&op, &t) == LK_OK) {
        char *link = lk_arena_printf(&a, "%s/setup#%s", public_url, t.token);
        char why[200] = "";
        /* a warning: a server nobody can administer yet (shown unless log_level is error) */
        if (isatty(STDERR_FILENO))
            lk_log(LK_LOG_WARN, "no administrator yet: open %s to create the first one (valid for 24 hours)", link);
        else if (write_link(file, link, why, sizeof why))
            lk_log(LK_LOG_WARN, "no administrator yet: the single-use setup link (valid for 24 hours) is in %s, "
                                "readable by this user only", file);
        else
            lk_log(LK_LOG_ERROR, "could not write the setup link to %s: %s; create the first administrator with "
                                 "'latchkey admin create'", file, why);
        sodium_memzero(link, strlen(link));
    } else if (op.err.code == LK_ERULE) {
        unlink(file);
    } else {
        lk_log(LK_LOG_ERROR, "could not prepare the setup link: %s", op.err.msg);
    }
    sodium_memzero(&t, sizeof t);
    lk_arena_free(&a);
    store->ops->close(store);
}

/* SIGHUP: the TLS certificate and key are read again, so is the token key file, and
 * the usage counts are written at once. The log goes to stderr, which belongs to
 * whoever started the server (a service manager, a redirect): there is no file of
 * ours to reopen. Everything else takes a restart. */
static void on_hangup(lk_server *srv, lk_runtime *rt, bool tls)
{
    char err[700];
    char about[400];
    bool written = lk_runtime_hangup(rt, HANGUP_WRITE_MS);
    const char *counts =
        written ? "usage counts written" : "usage counts not written yet (the database is busy; they stay queued)";
    if (!tls) {
        lk_log_always("SIGHUP: token keys read again, %s; TLS is not configured", counts);
    } else if (lk_server_reload_tls(srv, err, sizeof err)) {
        lk_tls_describe(about, sizeof about);
        lk_log_always("SIGHUP: TLS certificate reloaded: %s; token keys read again, %s", about, counts);
    } else {
        lk_log(LK_LOG_WARN,
               "SIGHUP: TLS certificate not reloaded (the one in use stays): %s; token keys read again, %s", err,
               counts);
    }
}

int lk_serve_main(int argc, char **argv)
{
    lk_config cfg;
    char err[700] = "";
    int rc = lk_config_load(&cfg, argc, argv, stdout, err, sizeof err);
    if (rc == 2)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "latchkey: %s\n", err);
        return 1;
    }
    lk_log_format format = LK_LOG_LOGFMT;
    lk_log_level level = LK_LOG_INFO;
    lk_log_parse_format(cfg.log_format, &format);
    lk_log_parse_level(cfg.log_level, &level);
    lk_log_setup(format, level, 2);
    /* block the signals in every thread; this one waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lk_error e = {0};
    const char *location = lk_store_default_location(cfg.db[0] ? cfg.db : NULL);
    const char *file = lk_store_sqlite_path(location, &e);
    if (file && lk_become_owner(file, err, sizeof err) != 0) {
        fprintf(stderr, "latchkey: %s\n", err);
        return 3;
    }
    lk_error_clear(&e);
    lk_runtime *rt = lk_runtime_open(&cfg, &e);
    if (!rt) {
        fprintf(stderr, "latchkey: %s\n", e.msg);
        return lk_code_info_of(e.code)->exit_status ? lk_code_info_of(e.code)->exit_status : 3;
    }
    /* held until the runtime is closed, so that a restore cannot run under this server */
    int hold = -1;
    if (lk_store_hold(location, &hold, &e) != LK_OK) {
        fprintf(stderr, "latchkey: %s\n", e.msg);
        lk_runtime_close(rt);
        lk_store_release(hold);
        return 3;
    }
    lk_server *srv = lk_server_start(rt, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "latchkey: %s\n", err);
        lk_runtime_close(rt);
        lk_store_release(hold);
        return 1;
    }
    if (!lk_runtime_start_mail(rt, &e)) {
        fprintf(stderr, "latchkey: %s\n", e.msg);
        lk_server_stop(srv, GRACE_MS);
        lk_runtime_close(rt);
        lk_store_release(hold);
        return 3;
    }
    if (cfg.tls_cert_file[0]) {
        char about[400];
        lk_tls_describe(about, sizeof about);
        lk_log_always("TLS certificate: %s", about);
    }
    /* before "listening on": whoever waits for that line finds the link's file written */
    print_setup_link(&cfg, lk_runtime_config(rt)->public_url);
    lk_log_always("listening on %s", lk_server_url(srv));
    lk_runtime_gauges g;
    lk_runtime_gauges_read(rt, &g);
    lk_log(LK_LOG_INFO, "catalog loaded: %lld API users, %lld services in %.1f s (change feed at %lld)",
           (long long)g.api_users, (long long)g.services, g.load_seconds, (long long)g.catalog_generation);
    if (lk_server_management_url(srv))
        lk_log_always("serving /metrics, /healthz and /readyz on %s (not on the public port)",
                      lk_server_management_url(srv));

    int sig = 0;
    for (;;) {
        sigwait(&sigs, &sig);
        if (sig != SIGHUP)
            break;
        on_hangup(srv, rt, cfg.tls_cert_file[0] != '\0');
    }
    lk_log_always("%s received, finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lk_server_stop(srv, GRACE_MS);
    bool written = lk_runtime_close(rt);
    lk_store_release(hold);
    if (!written) {
        lk_log_always("stopped; usage counts were lost (see above)");
        return 3;
    }
    lk_log_always("stopped");
    return 0;
}
