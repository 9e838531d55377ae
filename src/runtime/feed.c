/*
 * feed — applying the change feed to the catalog (feed.h).
 *
 * A poll runs in one read view of the store: the rows of the feed and the records
 * they name are read as of the same instant, so what it applies is a state the
 * database really was in, and the position it records (the highest seq of that
 * view) is exactly what it saw. Rows name what changed, not how: applying one reads
 * the record's current state, so applying a row twice, or after a later row for the
 * same record, is harmless — a poll reads each record once however many rows name it.
 *
 * A full load happens when nothing is loaded yet, when rows this process had not
 * seen were pruned (the store's pruned mark passed its position), when the feed
 * went backwards (a restored database), or when the backlog is larger than a
 * quarter of the instance (cheaper to read everything in one pass than record by
 * record).
 */
#include "runtime/feed.h"
#include "core/allowlist.h"
#include "core/gwroute.h"
#include "core/limits.h"
#include "core/op.h"
#include "util/log.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096                 /* feed rows read per query */
#define BACKLOG_MIN 20000          /* a backlog this long or less is always applied row by row */
#define COLLECT_EVERY 8192         /* entries replaced during a full load between frees */

struct lk_feed {
    lk_catalog *cat;
    lk_tokens *tokens;
    bool loaded;
    uint8_t mark;                  /* the mark of the last full load (catalog.h) */
    uint64_t full_loads;
};

lk_feed *lk_feed_new(lk_catalog *cat, lk_tokens *tokens)
{
    lk_feed *f = lk_xcalloc(1, sizeof *f);
    f->cat = cat;
    f->tokens = tokens;
    return f;
}

void lk_feed_free(lk_feed *f)
{
    free(f);
}

uint64_t lk_feed_full_loads(const lk_feed *f)
{
    return f->full_loads;
}

/* ---- one record at a time -------------------------------------------------------------- */

/* a user's rows (one per role) gathered into what the catalog takes */
typedef struct user_draft {
    lk_feed *f;
    lk_cat_user_in in;
    int64_t *roles;
    size_t cap;
    lk_limits limits;
    char *email;
    bool any;
    size_t puts;
} user_draft;

static void draft_flush(user_draft *d)
{
    if (!d->any)
        return;
    d->in.roles = d->roles;
    d->in.email = d->email;
    lk_catalog_put_user(d->f->cat, &d->in, d->f->mark);
    d->any = false;
    d->in.n_roles = 0;
    if (++d->puts % COLLECT_EVERY == 0)
        lk_catalog_collect(d->f->cat);
}

static lk_code on_user_row(void *ctx, const lk_user *u, int64_t role_id, const lk_limits *limits)
{
    user_draft *d = ctx;
    if (d->any && d->in.id != u->id)
        draft_flush(d);
    if (!d->any) {
        d->any = true;
        free(d->email);
        d->email = lk_xstrdup(u->email ? u->email : "");
        d->in = (lk_cat_user_in){
            .id = u->id,
            .email = d->email,
            .expires_at = u->expires_at,
            .status = u->status,
        };
        if (limits) {
            d->limits = *limits;
            d->in.limits = &d->limits;
        }
    }
    if (d->in.n_roles == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->roles = lk_xrealloc(d->roles, d->cap * sizeof *d->roles);
    }
    d->roles[d->in.n_roles++] = role_id;
    return LK_OK;
}

static void draft_free(user_draft *d)
{
    free(d->roles);
    free(d->email);
}

static lk_code reread_user(lk_feed *f, lk_store *s, int64_t id, lk_error *err)
{
    user_draft d = {.f = f};
    lk_code rc = s->ops->api_user_get(s, id, on_user_row, &d, err);
    if (rc == LK_OK) {
        if (d.any)
            draft_flush(&d);
        else
            lk_catalog_remove_user(f->cat, id); /* deleted, or not an API-only user */
    }
    draft_free(&d);
    return rc;
}

static lk_code reread_service(lk_feed *f, lk_store *s, int64_t id, lk_error *err)
{
    lk_arena a = LK_ARENA_INIT;
    lk_service svc;
    lk_code rc = s->ops->service_get(s, &a, id, &svc, err);
    if (rc == LK_OK)
        lk_catalog_put_service(f->cat, &svc, f->mark);
    else if (rc == LK_ENOTFOUND) {
        lk_catalog_remove_service(f->cat, id);
        rc = LK_OK;
    }
    lk_arena_free(&a);
    return rc;
}

static lk_code reread_revocation(lk_feed *f, lk_store *s, int64_t id, lk_error *err)
{
    lk_arena a = LK_ARENA_INIT;
    lk_revocation r;
    lk_code rc = s->ops->revocation_get(s, &a, id, &r, err);
    unsigned char tid[LK_TOKEN_ID_BYTES];
    if (rc == LK_OK && lk_token_id_parse(r.token_id, tid))
        lk_tokens_revoke(f->tokens, tid, r.expires_at);
    if (rc == LK_ENOTFOUND)
        rc = LK_OK; /* purged: its token has expired */
    lk_arena_free(&a);
    return rc;
}

/* every role with its permissions: a small table, read whole */
static lk_code reread_roles(lk_feed *f, lk_store *s, lk_error *err)
{
    lk_arena a = LK_ARENA_INIT;
    lk_permission *perms = NULL;
    lk_role *roles = NULL;
    size_t n_perms = 0, n_roles = 0;
    lk_code rc = s->ops->permission_list(s, &a, &perms, &n_perms, err);
    if (rc == LK_OK)
        rc = s->ops->role_list(s, &a, &roles, &n_roles, err);
    if (rc == LK_OK)
        lk_catalog_set_roles(f->cat, perms, n_perms, roles, n_roles);
    lk_arena_free(&a);
    return rc;
}

/* limits, allowlist and the gateway's routes through the core, which owns their
 * keys and defaults */
static lk_code reread_settings(lk_feed *f, lk_store *s, lk_error *err)
{
    lk_arena a = LK_ARENA_INIT;
    lk_op op;
    lk_op_init(&op, s, &a, "server", "");
    lk_limits instance;
    bool enabled = false;
    const char **cidrs = NULL;
    size_t n = 0;
    lk_code rc = lk_limits_instance(&op, &instance);
    if (rc == LK_OK)
        rc = lk_allowlist_get(&op, &enabled, &cidrs, &n);
    if (rc != LK_OK) {
        *err = op.err;
        lk_arena_free(&a);
        return rc;
    }
    lk_cidr *allow = lk_arena_alloc(&a, (n ? n : 1) * sizeof *allow);
    size_t n_allow = 0;
    for (size_t i = 0; i < n; i++) {
        if (lk_cidr_parse(cidrs[i], &allow[n_allow], NULL))
            n_allow++;
        else
            lk_log(LK_LOG_WARN, "ignoring allowlist entry '%.64s': not an address or CIDR range", cidrs[i]);
    }
    lk_catalog_set_settings(f->cat, &instance, enabled, allow, n_allow);
    /* the gateway's routes ride on the settings rows (migration 0008) */
    lk_gw_route *routes = NULL;
    size_t n_routes = 0;
    rc = lk_gwroute_list(&op, &routes, &n_routes);
    if (rc == LK_OK)
        lk_catalog_set_gw_routes(f->cat, routes, n_routes);
    else
        *err = op.err;
    lk_arena_free(&a);
    return rc;
}

/* ---- everything at once ------------------------------------------------------------------ */

typedef struct service_load {
    lk_feed *f;
    size_t puts;
} service_load;

static lk_code on_service(void *ctx, const lk_service *svc)
{
    service_load *l = ctx;
    lk_catalog_put_service(l->f->cat, svc, l->f->mark);
    if (++l->puts % COLLECT_EVERY == 0)
        lk_catalog_collect(l->f->cat);
    return LK_OK;
}

static lk_code on_revocation(void *ctx, const lk_revocation *r)
{
    lk_feed *f = ctx;
    unsigned char tid[LK_TOKEN_ID_BYTES];
    if (lk_token_id_parse(r->token_id, tid))
        lk_tokens_revoke(f->tokens, tid, r->expires_at);
    return LK_OK;
}

/* inside a read view, catalog write lock held */
static lk_code full_load(lk_feed *f, lk_store *s, int64_t head, int64_t now, lk_feed_stats *st, lk_error *err)
{
    f->mark++;
    lk_code rc = reread_roles(f, s, err);
    if (rc == LK_OK)
        rc = reread_settings(f, s, err);
    user_draft d = {.f = f};
    if (rc == LK_OK)
        rc = s->ops->api_user_role_scan(s, on_user_row, &d, err);
    if (rc == LK_OK)
        draft_flush(&d);
    draft_free(&d);
    service_load sl = {.f = f};
    if (rc == LK_OK)
        rc = s->ops->service_scan(s, on_service, &sl, err);
    if (rc == LK_OK)
        rc = s->ops->revocation_scan(s, now, on_revocation, f, err);
    if (rc != LK_OK)
        return rc; /* what was put is current anyway; the next poll loads again */
    lk_catalog_sweep(f->cat, f->mark);
    assert(head >= 0);
    lk_catalog_set_position(f->cat, head);
    f->loaded = true;
    f->full_loads++;
    st->full_load = true;
    st->reread = d.puts + sl.puts;
    return LK_OK;
}

/* ---- polls ------------------------------------------------------------------------------------ */

typedef struct poll_state {
    lk_map *users, *services, *revocations;   /* ids done in this poll */
    bool roles, settings, keys;
} poll_state;

static bool first_time(lk_map *done, int64_t id)
{
    if (lk_map_get_int(done, id))
        return false;
    lk_map_put_int(done, id, (void *)1);
    return true;
}

static lk_code apply(lk_feed *f, lk_store *s, const lk_change *ch, poll_state *p, lk_feed_stats *st, lk_error *err)
{
    switch (ch->kind) {
    case LK_CHANGE_USER:
        if (!first_time(p->users, ch->id))
            return LK_OK;
        st->reread++;
        return reread_user(f, s, ch->id, err);
    case LK_CHANGE_SERVICE:
        if (!first_time(p->services, ch->id))
            return LK_OK;
        st->reread++;
        return reread_service(f, s, ch->id, err);
    case LK_CHANGE_REVOCATION:
        if (!first_time(p->revocations, ch->id))
            return LK_OK;
        st->reread++;
        return reread_revocation(f, s, ch->id, err);
    case LK_CHANGE_ROLE:
    case LK_CHANGE_PERMISSION:
        p->roles = true;
        return LK_OK;
    case LK_CHANGE_SETTINGS:
    case LK_CHANGE_ALLOWLIST:
        p->settings = true;
        return LK_OK;
    case LK_CHANGE_KEYS:
        p->keys = true;
        return LK_OK;
    case LK_CHANGE_OTHER:
        break;
    }
    return LK_OK;
}

static lk_code apply_rows(lk_feed *f, lk_store *s, int64_t head, int64_t now, lk_feed_stats *st, lk_error *err)
{
    poll_state p = {.users = lk_map_new_int(16), .services = lk_map_new_int(16), .revocations = lk_map_new_int(4)};
    int64_t pos = lk_catalog_position(f->cat);
    lk_code rc = LK_OK;
    while (rc == LK_OK && pos < head) {
        lk_arena a = LK_ARENA_INIT;
        lk_change *rows = NULL;
        size_t n = 0;
        rc = s->ops->changes_since(s, &a, pos, BATCH, &rows, &n, err);
        for (size_t i = 0; rc == LK_OK && i < n; i++) {
            rc = apply(f, s, &rows[i], &p, st, err);
            if (rc == LK_OK) {
                pos = rows[i].seq;
                st->applied++;
            }
        }
        lk_arena_free(&a);
        if (rc == LK_OK && n == 0) {
            /* rows up to head missing from this view: never skip them, read everything */
            lk_map_free(p.users);
            lk_map_free(p.services);
            lk_map_free(p.revocations);
            return full_load(f, s, head, now, st, err);
        }
    }
    if (rc == LK_OK && p.roles)
        rc = reread_roles(f, s, err);
    if (rc == LK_OK && p.settings)
        rc = reread_settings(f, s, err);
    if (rc == LK_OK && p.keys) {
        lk_error kerr = {0};
        if (!lk_tokens_reload_keys(f->tokens, true, now, &kerr))
            lk_log(LK_LOG_ERROR, "could not read the rotated key file: %s", kerr.msg);
        st->keys_changed = true;
    }
    /* the position moves only once everything up to it is applied */
    if (rc == LK_OK)
        lk_catalog_set_position(f->cat, head);
    lk_map_free(p.users);
    lk_map_free(p.services);
    lk_map_free(p.revocations);
    return rc;
}

static lk_code poll_locked(lk_feed *f, lk_store *s, bool force_full, int64_t now, lk_feed_stats *st, lk_error *err)
{
    int64_t head = 0, pruned = 0;
    lk_code rc = s->ops->changes_state(s, &head, &pruned, err);
    if (rc != LK_OK)
        return rc;
    int64_t pos = lk_catalog_position(f->cat);
    size_t size = lk_catalog_count_users(f->cat) + lk_catalog_count_services(f->cat);
    int64_t backlog_max = BACKLOG_MIN > (int64_t)size / 4 ? BACKLOG_MIN : (int64_t)size / 4;
    if (force_full || !f->loaded || pruned > pos || head < pos || head - pos > backlog_max)
        return full_load(f, s, head, now, st, err);
    if (head == pos)
        return LK_OK;
    return apply_rows(f, s, head, now, st, err);
}

static lk_code run(lk_feed *f, lk_store *s, bool force_full, int64_t now, lk_feed_stats *st, lk_error *err)
{
    lk_feed_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    lk_catalog_write_lock(f->cat);
    lk_code rc = s->ops->snapshot_begin(s, err);
    if (rc == LK_OK) {
        rc = poll_locked(f, s, force_full, now, st, err);
        s->ops->snapshot_end(s);
    }
    st->position = lk_catalog_position(f->cat);
    lk_catalog_write_unlock(f->cat);
    lk_catalog_collect(f->cat);
    return rc;
}

lk_code lk_feed_load(lk_feed *f, lk_store *s, int64_t now, lk_feed_stats *st, lk_error *err)
{
    return run(f, s, true, now, st, err);
}

lk_code lk_feed_poll(lk_feed *f, lk_store *s, int64_t now, lk_feed_stats *st, lk_error *err)
{
    return run(f, s, false, now, st, err);
}
