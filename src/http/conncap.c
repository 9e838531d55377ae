/*
 * conncap — connections per address (conncap.h). A map from the address (as text) to
 * its count; an entry goes when its count is back at 0, so the map holds only the
 * addresses with open connections.
 */
#include "http/conncap.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct entry {
    unsigned n;
    char key[LK_CIDR_TEXT];
} entry;

struct lk_conncap {
    unsigned limit;
    pthread_mutex_t mu;
    lk_map *counts;   /* key -> entry (owned) */
};

lk_conncap *lk_conncap_new(unsigned limit)
{
    lk_conncap *c = lk_xcalloc(1, sizeof *c);
    c->limit = limit;
    pthread_mutex_init(&c->mu, NULL);
    c->counts = lk_map_new_str(64);
    return c;
}

void lk_conncap_free(lk_conncap *c)
{
    if (!c)
        return;
    size_t pos = 0;
    void *v;
    while (lk_map_next(c->counts, &pos, NULL, NULL, &v))
        free(v);
    lk_map_free(c->counts);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void key_of(const lk_ip *ip, char out[LK_CIDR_TEXT])
{
    lk_ip_format(ip, out); /* "0.0.0.0" and "::" apart: the families never share a text */
}

unsigned lk_conncap_count(lk_conncap *c, const lk_ip *ip)
{
    char key[LK_CIDR_TEXT];
    key_of(ip, key);
    pthread_mutex_lock(&c->mu);
    const entry *e = lk_map_get_str(c->counts, key);
    unsigned n = e ? e->n : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}

bool lk_conncap_admits(lk_conncap *c, const lk_ip *ip)
{
    return lk_conncap_count(c, ip) < c->limit;
}

void lk_conncap_add(lk_conncap *c, const lk_ip *ip)
{
    char key[LK_CIDR_TEXT];
    key_of(ip, key);
    pthread_mutex_lock(&c->mu);
    entry *e = lk_map_get_str(c->counts, key);
    if (!e) {
        e = lk_xcalloc(1, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
        lk_map_put_str(c->counts, e->key, e);
    }
    e->n++;
    pthread_mutex_unlock(&c->mu);
}

void lk_conncap_remove(lk_conncap *c, const lk_ip *ip)
{
    char key[LK_CIDR_TEXT];
    key_of(ip, key);
    pthread_mutex_lock(&c->mu);
    entry *e = lk_map_get_str(c->counts, key);
    if (e && --e->n == 0) {
        lk_map_del_str(c->counts, e->key);
        free(e);
    }
    pthread_mutex_unlock(&c->mu);
}
