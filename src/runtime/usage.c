/*
 * usage — call and error counts per day, under one mutex.
 *
 * Layout and ownership: a map day -> lk_usage_daytab (owned); each day owns a map
 * user_id -> lk_usage_user and a map code -> lk_usage_code (both owned; string keys
 * point into the entries themselves).
 *
 * Invariants:
 * - total is what reads report (loaded + counted); delta is what was counted (or
 *   given back) since the writer's last take and has not reached the store yet.
 * - An entry is on the dirty list (u->dirty_users / u->dirty_codes) exactly when
 *   its dirty flag is set, and its day's n_dirty counts its dirty entries; so a
 *   take walks only what changed, not every user of every day.
 * - A day with dirty entries is never forgotten, so pointers on the dirty lists
 *   stay valid and no count is lost before the writer has taken it.
 * - daytab->calls is the sum of its users' totals.
 */
#include "runtime/usage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/map.h"
#include "util/xalloc.h"

typedef struct lk_usage_daytab lk_usage_daytab;

typedef struct lk_usage_user {
    int64_t user_id;
    char *email;                 /* owned; the latest seen */
    int64_t total, delta;
    bool dirty;
    lk_usage_daytab *day;        /* borrowed: the day that owns this entry */
} lk_usage_user;

typedef struct lk_usage_code {
    char *code;                  /* owned; the key of its day's code map */
    int64_t total, delta;
    bool dirty;
    lk_usage_daytab *day;
} lk_usage_code;

struct lk_usage_daytab {
    char *day;                   /* owned; the key of the days map */
    lk_map *users;               /* user_id -> lk_usage_user* (owned) */
    lk_map *codes;               /* code -> lk_usage_code* (owned) */
    int64_t calls;               /* sum of the users' totals */
    size_t n_dirty;
};

struct lk_usage {
    pthread_mutex_t mu;
    lk_map *days;                /* day -> lk_usage_daytab* (owned) */
    lk_usage_user **dirty_users; /* borrowed */
    size_t n_dirty_users, cap_dirty_users;
    lk_usage_code **dirty_codes; /* borrowed */
    size_t n_dirty_codes, cap_dirty_codes;
};

lk_usage *lk_usage_new(void)
{
    lk_usage *u = lk_xcalloc(1, sizeof *u);
    pthread_mutex_init(&u->mu, NULL);
    u->days = lk_map_new_str(16);
    return u;
}

static void lk_usage_daytab_free(lk_usage_daytab *d)
{
    size_t pos = 0;
    void *v;
    while (lk_map_next(d->users, &pos, NULL, NULL, &v)) {
        lk_usage_user *e = v;
        free(e->email);
        free(e);
    }
    pos = 0;
    while (lk_map_next(d->codes, &pos, NULL, NULL, &v)) {
        lk_usage_code *c = v;
        free(c->code);
        free(c);
    }
    lk_map_free(d->users);
    lk_map_free(d->codes);
    free(d->day);
    free(d);
}

void lk_usage_free(lk_usage *u)
{
    if (!u)
        return;
    size_t pos = 0;
    void *v;
    while (lk_map_next(u->days, &pos, NULL, NULL, &v))
        lk_usage_daytab_free(v);
    lk_map_free(u->days);
    free(u->dirty_users);
    free(u->dirty_codes);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* ---- lookups (mutex held) --------------------------------------------------- */

static lk_usage_daytab *lk_usage_daytab_get(lk_usage *u, const char *day)
{
    lk_usage_daytab *d = lk_map_get_str(u->days, day);
    if (d)
        return d;
    d = lk_xcalloc(1, sizeof *d);
    d->day = lk_xstrdup(day);
    d->users = lk_map_new_int(16);
    d->codes = lk_map_new_str(8);
    lk_map_put_str(u->days, d->day, d);
    return d;
}

/* the user's entry of day d, created if absent (*created tells) */
static lk_usage_user *lk_usage_user_get(lk_usage_daytab *d, int64_t user_id, const char *email,
                                        bool *created)
{
    lk_usage_user *e = lk_map_get_int(d->users, user_id);
    *created = !e;
    if (!e) {
        e = lk_xcalloc(1, sizeof *e);
        e->user_id = user_id;
        e->email = lk_xstrdup(email ? email : "");
        e->day = d;
        lk_map_put_int(d->users, user_id, e);
    }
    return e;
}

static lk_usage_code *lk_usage_code_get(lk_usage_daytab *d, const char *code, bool *created)
{
    lk_usage_code *c = lk_map_get_str(d->codes, code);
    *created = !c;
    if (!c) {
        c = lk_xcalloc(1, sizeof *c);
        c->code = lk_xstrdup(code);
        c->day = d;
        lk_map_put_str(d->codes, c->code, c);
    }
    return c;
}

static void lk_usage_mark_user(lk_usage *u, lk_usage_user *e)
{
    if (e->dirty)
        return;
    if (u->n_dirty_users == u->cap_dirty_users) {
        u->cap_dirty_users = u->cap_dirty_users ? u->cap_dirty_users * 2 : 64;
        u->dirty_users = lk_xrealloc(u->dirty_users, u->cap_dirty_users * sizeof *u->dirty_users);
    }
    u->dirty_users[u->n_dirty_users++] = e;
    e->dirty = true;
    e->day->n_dirty++;
}

static void lk_usage_mark_code(lk_usage *u, lk_usage_code *c)
{
    if (c->dirty)
        return;
    if (u->n_dirty_codes == u->cap_dirty_codes) {
        u->cap_dirty_codes = u->cap_dirty_codes ? u->cap_dirty_codes * 2 : 16;
        u->dirty_codes = lk_xrealloc(u->dirty_codes, u->cap_dirty_codes * sizeof *u->dirty_codes);
    }
    u->dirty_codes[u->n_dirty_codes++] = c;
    c->dirty = true;
    c->day->n_dirty++;
}

/* ---- counting ------------------------------------------------------------------ */

void lk_usage_count_call(lk_usage *u, const char *day, int64_t user_id, const char *user_email)
{
    if (!day)
        return;
    pthread_mutex_lock(&u->mu);
    lk_usage_daytab *d = lk_usage_daytab_get(u, day);
    bool created;
    lk_usage_user *e = lk_usage_user_get(d, user_id, user_email, &created);
    if (!created && user_email && strcmp(e->email, user_email) != 0) {
        free(e->email); /* the user's email changed: report the current one */
        e->email = lk_xstrdup(user_email);
    }
    e->total++;
    e->delta++;
    d->calls++;
    lk_usage_mark_user(u, e);
    pthread_mutex_unlock(&u->mu);
}

void lk_usage_count_error(lk_usage *u, const char *day, const char *code)
{
    if (!day || !code)
        return;
    pthread_mutex_lock(&u->mu);
    bool created;
    lk_usage_code *c = lk_usage_code_get(lk_usage_daytab_get(u, day), code, &created);
    c->total++;
    c->delta++;
    lk_usage_mark_code(u, c);
    pthread_mutex_unlock(&u->mu);
}

/* adds stored counts to the totals (mutex held) */
static void add_stored(lk_usage *u, const lk_usage_rec *calls, size_t n_calls, const lk_error_rec *errors,
                       size_t n_errors)
{
    for (size_t i = 0; i < n_calls; i++) {
        const lk_usage_rec *r = &calls[i];
        if (!r->day)
            continue;
        lk_usage_daytab *d = lk_usage_daytab_get(u, r->day);
        bool created;
        lk_usage_user *e = lk_usage_user_get(d, r->user_id, r->user_email, &created);
        e->total += r->count;
        d->calls += r->count;
    }
    for (size_t i = 0; i < n_errors; i++) {
        const lk_error_rec *r = &errors[i];
        if (!r->day || !r->code)
            continue;
        bool created;
        lk_usage_code *c = lk_usage_code_get(lk_usage_daytab_get(u, r->day), r->code, &created);
        c->total += r->count;
    }
}

void lk_usage_load(lk_usage *u, const lk_usage_rec *calls, size_t n_calls,
                   const lk_error_rec *errors, size_t n_errors)
{
    pthread_mutex_lock(&u->mu);
    add_stored(u, calls, n_calls, errors, n_errors);
    pthread_mutex_unlock(&u->mu);
}

/* ---- deltas ---------------------------------------------------------------------- */

static int lk_usage_cmp_calls(const void *a, const void *b)
{
    const lk_usage_rec *x = a, *y = b;
    int c = strcmp(x->day, y->day);
    if (c)
        return c;
    return (x->user_id > y->user_id) - (x->user_id < y->user_id);
}

static int lk_usage_cmp_errors(const void *a, const void *b)
{
    const lk_error_rec *x = a, *y = b;
    int c = strcmp(x->day, y->day);
    return c ? c : strcmp(x->code, y->code);
}

void lk_usage_take_deltas(lk_usage *u, lk_arena *a, lk_usage_rec **calls, size_t *n_calls,
                          lk_error_rec **errors, size_t *n_errors)
{
    pthread_mutex_lock(&u->mu);
    lk_usage_rec *cv = NULL;
    size_t nc = 0;
    if (u->n_dirty_users)
        cv = lk_arena_alloc(a, u->n_dirty_users * sizeof *cv);
    for (size_t i = 0; i < u->n_dirty_users; i++) {
        lk_usage_user *e = u->dirty_users[i];
        if (e->delta > 0)
            cv[nc++] = (lk_usage_rec){
                .day = lk_arena_strdup(a, e->day->day),
                .user_id = e->user_id,
                .user_email = lk_arena_strdup(a, e->email),
                .count = e->delta,
            };
        e->delta = 0;
        e->dirty = false;
        e->day->n_dirty--;
    }
    u->n_dirty_users = 0;

    lk_error_rec *ev = NULL;
    size_t ne = 0;
    if (u->n_dirty_codes)
        ev = lk_arena_alloc(a, u->n_dirty_codes * sizeof *ev);
    for (size_t i = 0; i < u->n_dirty_codes; i++) {
        lk_usage_code *c = u->dirty_codes[i];
        if (c->delta > 0)
            ev[ne++] = (lk_error_rec){
                .day = lk_arena_strdup(a, c->day->day),
                .code = lk_arena_strdup(a, c->code),
                .count = c->delta,
            };
        c->delta = 0;
        c->dirty = false;
        c->day->n_dirty--;
    }
    u->n_dirty_codes = 0;
    pthread_mutex_unlock(&u->mu);

    /* sorted so that the writer touches rows in a stable order */
    if (nc > 1)
        qsort(cv, nc, sizeof *cv, lk_usage_cmp_calls);
    if (ne > 1)
        qsort(ev, ne, sizeof *ev, lk_usage_cmp_errors);
    *calls = nc ? cv : NULL;
    *n_calls = nc;
    *errors = ne ? ev : NULL;
    *n_errors = ne;
}

void lk_usage_restore_deltas(lk_usage *u, const lk_usage_rec *calls, size_t n_calls,
                             const lk_error_rec *errors, size_t n_errors)
{
    pthread_mutex_lock(&u->mu);
    for (size_t i = 0; i < n_calls; i++) {
        const lk_usage_rec *r = &calls[i];
        if (!r->day || r->count <= 0)
            continue;
        lk_usage_daytab *d = lk_usage_daytab_get(u, r->day);
        bool created;
        lk_usage_user *e = lk_usage_user_get(d, r->user_id, r->user_email, &created);
        if (created) {
            /* its day was forgotten meanwhile: what is given back is all we know of it */
            e->total = r->count;
            d->calls += r->count;
        }
        e->delta += r->count;
        lk_usage_mark_user(u, e);
    }
    for (size_t i = 0; i < n_errors; i++) {
        const lk_error_rec *r = &errors[i];
        if (!r->day || !r->code || r->count <= 0)
            continue;
        bool created;
        lk_usage_code *c = lk_usage_code_get(lk_usage_daytab_get(u, r->day), r->code, &created);
        if (created)
            c->total = r->count;
        c->delta += r->count;
        lk_usage_mark_code(u, c);
    }
    pthread_mutex_unlock(&u->mu);
}

/* ---- reads ------------------------------------------------------------------------- */

static int lk_usage_cmp_user_id(const void *a, const void *b)
{
    const lk_usage_rec *x = a, *y = b;
    return (x->user_id > y->user_id) - (x->user_id < y->user_id);
}

static int lk_usage_cmp_code(const void *a, const void *b)
{
    const lk_error_rec *x = a, *y = b;
    return strcmp(x->code, y->code);
}

void lk_usage_day(lk_usage *u, lk_arena *a, const char *day, lk_usage_rec **calls, size_t *n_calls,
                  lk_error_rec **errors, size_t *n_errors)
{
    *calls = NULL;
    *n_calls = 0;
    *errors = NULL;
    *n_errors = 0;
    if (!day)
        return;
    pthread_mutex_lock(&u->mu);
    lk_usage_daytab *d = lk_map_get_str(u->days, day);
    if (!d) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    const char *day_copy = lk_arena_strdup(a, d->day);
    size_t nc = lk_map_size(d->users), ne = lk_map_size(d->codes);
    lk_usage_rec *cv = nc ? lk_arena_alloc(a, nc * sizeof *cv) : NULL;
    lk_error_rec *ev = ne ? lk_arena_alloc(a, ne * sizeof *ev) : NULL;
    size_t pos = 0, i = 0;
    void *v;
    while (lk_map_next(d->users, &pos, NULL, NULL, &v)) {
        const lk_usage_user *e = v;
        cv[i++] = (lk_usage_rec){
            .day = day_copy,
            .user_id = e->user_id,
            .user_email = lk_arena_strdup(a, e->email),
            .count = e->total,
        };
    }
    pos = 0;
    i = 0;
    while (lk_map_next(d->codes, &pos, NULL, NULL, &v)) {
        const lk_usage_code *c = v;
        ev[i++] = (lk_error_rec){
            .day = day_copy,
            .code = lk_arena_strdup(a, c->code),
            .count = c->total,
        };
    }
    pthread_mutex_unlock(&u->mu);

    if (nc > 1)
        qsort(cv, nc, sizeof *cv, lk_usage_cmp_user_id);
    if (ne > 1)
        qsort(ev, ne, sizeof *ev, lk_usage_cmp_code);
    *calls = cv;
    *n_calls = nc;
    *errors = ev;
    *n_errors = ne;
}

int64_t lk_usage_calls(lk_usage *u, const char *day, int64_t user_id)
{
    if (!day)
        return 0;
    int64_t n = 0;
    pthread_mutex_lock(&u->mu);
    const lk_usage_daytab *d = lk_map_get_str(u->days, day);
    if (d && user_id > 0) {
        const lk_usage_user *e = lk_map_get_int(d->users, user_id);
        n = e ? e->total : 0;
    } else if (d) {
        n = d->calls;
    }
    pthread_mutex_unlock(&u->mu);
    return n;
}

void lk_usage_forget_before(lk_usage *u, const char *day)
{
    if (!day)
        return;
    pthread_mutex_lock(&u->mu);
    size_t pos = 0;
    void *v;
    while (lk_map_next(u->days, &pos, NULL, NULL, &v)) {
        lk_usage_daytab *d = v;
        if (strcmp(d->day, day) >= 0 || d->n_dirty > 0)
            continue; /* dirty: kept until the writer has taken its deltas */
        lk_map_del_str(u->days, d->day);
        lk_usage_daytab_free(d);
    }
    pthread_mutex_unlock(&u->mu);
}

size_t lk_usage_pending(lk_usage *u)
{
    pthread_mutex_lock(&u->mu);
    size_t n = u->n_dirty_users + u->n_dirty_codes;
    pthread_mutex_unlock(&u->mu);
    return n;
}

/* ---- several processes ------------------------------------------------------------- */

void lk_usage_refresh(lk_usage *u, const char *from_day, const lk_usage_rec *calls, size_t n_calls,
                      const lk_error_rec *errors, size_t n_errors)
{
    pthread_mutex_lock(&u->mu);
    /* what is stored is everyone's; what this process counted and has not written yet
     * (delta) comes on top */
    size_t pos = 0;
    void *v;
    while (lk_map_next(u->days, &pos, NULL, NULL, &v)) {
        lk_usage_daytab *d = v;
        if (strcmp(d->day, from_day) < 0)
            continue;
        size_t p2 = 0;
        void *e;
        d->calls = 0;
        while (lk_map_next(d->users, &p2, NULL, NULL, &e)) {
            lk_usage_user *x = e;
            x->total = x->delta;
            d->calls += x->delta;
        }
        p2 = 0;
        while (lk_map_next(d->codes, &p2, NULL, NULL, &e)) {
            lk_usage_code *c = e;
            c->total = c->delta;
        }
    }
    add_stored(u, calls, n_calls, errors, n_errors);
    pthread_mutex_unlock(&u->mu);
}
