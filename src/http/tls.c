/*
 * tls — the certificate pair of tls.h. `current` is read by the handshake callback
 * without a lock; reloads and the final free are serialised by `lock`. Every pair
 * ever loaded stays on the `older` chain until lk_tls_free().
 */
#include "http/tls.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timefmt.h"
#include "util/xalloc.h"

#define MAX_CHAIN 8

typedef struct pair {
    gnutls_pcert_st pcert[MAX_CHAIN];
    unsigned n;
    gnutls_privkey_t key;
    char subject[256];
    time_t not_after;
    struct pair *older;
} pair;

static _Atomic(pair *) current;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char cert_path[1024], key_path[1024];

static void pair_free(pair *p)
{
    for (unsigned i = 0; i < p->n; i++)
        gnutls_pcert_deinit(&p->pcert[i]);
    if (p->key)
        gnutls_privkey_deinit(p->key);
    free(p);
}

/* the certificate's public key is the private key's */
static bool key_matches(pair *p)
{
    unsigned char a[64], b[64];
    size_t na = sizeof a, nb = sizeof b;
    gnutls_pubkey_t pub;
    if (gnutls_pubkey_init(&pub) < 0)
        return false;
    bool ok = gnutls_pubkey_import_privkey(pub, p->key, 0, 0) >= 0 &&
              gnutls_pubkey_get_key_id(pub, 0, a, &na) >= 0 &&
              gnutls_pubkey_get_key_id(p->pcert[0].pubkey, 0, b, &nb) >= 0 && na == nb && memcmp(a, b, na) == 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

static void describe_cert(pair *p)
{
    gnutls_x509_crt_t crt;
    snprintf(p->subject, sizeof p->subject, "?");
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &p->pcert[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
        size_t n = sizeof p->subject;
        if (gnutls_x509_crt_get_dn(crt, p->subject, &n) < 0)
            snprintf(p->subject, sizeof p->subject, "?");
        p->not_after = gnutls_x509_crt_get_expiration_time(crt);
    }
    gnutls_x509_crt_deinit(crt);
}

static pair *load_pair(const char *cert_file, const char *key_file, char *err, size_t err_len)
{
    gnutls_datum_t cert = {0}, key = {0};
    int rc = gnutls_load_file(cert_file, &cert);
    if (rc < 0) {
        snprintf(err, err_len, "tls_cert_file: cannot read %.300s: %s", cert_file, gnutls_strerror(rc));
        return NULL;
    }
    rc = gnutls_load_file(key_file, &key);
    if (rc < 0) {
        gnutls_free(cert.data);
        snprintf(err, err_len, "tls_key_file: cannot read %.300s: %s", key_file, gnutls_strerror(rc));
        return NULL;
    }
    pair *p = lk_xcalloc(1, sizeof *p);
    p->n = MAX_CHAIN;
    rc = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || p->n == 0) {
        p->n = 0;
        snprintf(err, err_len, "tls_cert_file: %.300s holds no PEM certificate chain (of at most %d): %s", cert_file,
                 MAX_CHAIN, rc < 0 ? gnutls_strerror(rc) : "none found");
        goto fail;
    }
    if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
        (rc = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        snprintf(err, err_len, "tls_key_file: %.300s holds no unencrypted PEM private key: %s", key_file,
                 gnutls_strerror(rc));
        goto fail;
    }
    if (!key_matches(p)) {
        snprintf(err, err_len, "tls_key_file: %.300s is not the key of the certificate in %.300s", key_file, cert_file);
        goto fail;
    }
    describe_cert(p);
    gnutls_free(cert.data);
    explicit_bzero(key.data, key.size);
    gnutls_free(key.data);
    return p;
fail:
    gnutls_free(cert.data);
    explicit_bzero(key.data, key.size);
    gnutls_free(key.data);
    pair_free(p);
    return NULL;
}

static void install(pair *p)
{
    p->older = atomic_load(&current);
    atomic_store(&current, p);
}

bool lk_tls_load(const char *cert_file, const char *key_file, char *err, size_t err_len)
{
    pair *p = load_pair(cert_file, key_file, err, err_len);
    if (!p)
        return false;
    pthread_mutex_lock(&lock);
    snprintf(cert_path, sizeof cert_path, "%s", cert_file);
    snprintf(key_path, sizeof key_path, "%s", key_file);
    install(p);
    pthread_mutex_unlock(&lock);
    return true;
}

bool lk_tls_reload(char *err, size_t err_len)
{
    pthread_mutex_lock(&lock);
    pair *p = cert_path[0] ? load_pair(cert_path, key_path, err, err_len) : NULL;
    if (!cert_path[0])
        snprintf(err, err_len, "TLS is not configured");
    if (p)
        install(p);
    pthread_mutex_unlock(&lock);
    return p != NULL;
}

void lk_tls_describe(char *out, size_t len)
{
    pair *p = atomic_load(&current);
    if (!p) {
        snprintf(out, len, "no certificate");
        return;
    }
    char until[LK_TIME_BUF];
    lk_time_format((int64_t)p->not_after, until);
    snprintf(out, len, "%s, valid until %s%s", p->subject, until, p->not_after < time(NULL) ? " (EXPIRED)" : "");
}

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                    unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    pair *p = atomic_load(&current);
    if (!p)
        return -1;
    *pcert = p->pcert;
    *pcert_length = p->n;
    *pkey = p->key;
    return 0;
}

gnutls_certificate_retrieve_function2 *lk_tls_callback(void)
{
    return retrieve;
}

void lk_tls_free(void)
{
    pthread_mutex_lock(&lock);
    pair *p = atomic_exchange(&current, NULL);
    while (p) {
        pair *older = p->older;
        pair_free(p);
        p = older;
    }
    cert_path[0] = key_path[0] = '\0';
    pthread_mutex_unlock(&lock);
}
