/*
 * cmd_serve — `latchkey serve`: loads the configuration, opens the runtime (store,
 * catalog, tokens, counts; the schema is migrated), starts the HTTP server, prints
 * the line `listening on http://ADDR:PORT` once the socket accepts, hands out the
 * first-administrator setup link while there is none, and on SIGTERM or SIGINT
 * stops accepting, lets requests in flight finish, flushes and exits 0.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "core/session.h"
#include "http/server.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GRACE_MS 10000

/* Where the setup link goes when stderr is no terminal: next to the database, as
 * "<database>-setup-link" (arena). */
static const char *setup_link_file(lk_arena *a, const lk_config *cfg)
{
    const char *db = lk_store_default_location(cfg->db[0] ? cfg->db : NULL);
    if (strncmp(db, "sqlite://", 9) == 0)
        db += 9;
    else if (strncmp(db, "sqlite:", 7) == 0)
        db += 7;
    return lk_arena_printf(a, "%s-setup-link", db);
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
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "no administrator yet: open %s to create the first one (valid for 24 hours)\n", link);
        else if (write_link(file, link, why, sizeof why))
            fprintf(stderr, "no administrator yet: the single-use setup link (valid for 24 hours) is in %s, "
                            "readable by this user only\n", file);
        else
            fprintf(stderr, "latchkey: could not write the setup link to %s: %s; create the first administrator "
                            "with 'latchkey admin create'\n", file, why);
        sodium_memzero(link, strlen(link));
    } else if (op.err.code == LK_ERULE) {
        unlink(file);
    } else {
        fprintf(stderr, "latchkey: could not prepare the setup link: %s\n", op.err.msg);
    }
    sodium_memzero(&t, sizeof t);
    lk_arena_free(&a);
    store->ops->close(store);
}

int lk_serve_main(int argc, char **argv)
{
    lk_config cfg;
    char err[600] = "";
    int rc = lk_config_load(&cfg, argc, argv, stdout, err, sizeof err);
    if (rc == 2)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "latchkey: %s\n", err);
        return 1;
    }
    /* block the stop signals in every thread; this one waits for them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    lk_error e = {0};
    lk_runtime *rt = lk_runtime_open(&cfg, &e);
    if (!rt) {
        fprintf(stderr, "latchkey: %s\n", e.msg);
        return lk_code_info_of(e.code)->exit_status ? lk_code_info_of(e.code)->exit_status : 3;
    }
    char bound[128];
    lk_server *srv = lk_server_start(rt, bound, sizeof bound, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "latchkey: %s\n", err);
        lk_runtime_close(rt);
        return 1;
    }
    if (!lk_runtime_start_mail(rt, &e)) {
        fprintf(stderr, "latchkey: %s\n", e.msg);
        lk_server_stop(srv, GRACE_MS);
        lk_runtime_close(rt);
        return 3;
    }
    fprintf(stderr, "listening on http://%s\n", bound);
    print_setup_link(&cfg, lk_runtime_config(rt)->public_url);
    fflush(stderr);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "latchkey: %s received, finishing requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lk_server_stop(srv, GRACE_MS);
    lk_runtime_close(rt);
    fprintf(stderr, "latchkey: stopped\n");
    return 0;
}
