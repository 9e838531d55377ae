/*
 * tls — the certificate and key the server presents when it serves HTTPS itself
 * (tls_cert_file, tls_key_file), for libmicrohttpd's GnuTLS support.
 *
 * The pair is handed to GnuTLS by a certificate callback at each handshake, so a
 * reload (SIGHUP) swaps it without restarting the listener: connections set up
 * before keep theirs, new ones get the new pair. A reload that fails (unreadable
 * file, a key that does not match the certificate) keeps the pair in use. Pairs
 * replaced by a reload are freed only by lk_tls_free(): a session set up earlier
 * may still point at them (a few kilobytes per reload).
 *
 * One set per process (the callback GnuTLS calls carries no context of ours).
 */
#ifndef LK_HTTP_TLS_H
#define LK_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <stdbool.h>
#include <stddef.h>

/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL ciphers otherwise */
#define LK_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* loads the pair; false with a one-line reason in err */
bool lk_tls_load(const char *cert_file, const char *key_file, char *err, size_t err_len);
/* loads the files named at lk_tls_load again; false (the pair in use kept) with err */
bool lk_tls_reload(char *err, size_t err_len);
/* one line about the pair in use: subject and expiry ("CN=… until 2027-…Z") */
void lk_tls_describe(char *out, size_t len);
/* the callback for MHD_OPTION_HTTPS_CERT_CALLBACK */
gnutls_certificate_retrieve_function2 *lk_tls_callback(void);
/* frees every pair loaded (after the listener stopped) */
void lk_tls_free(void);

#endif
