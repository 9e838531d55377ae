/*
 * cidr — IPv4 and IPv6 addresses and CIDR ranges, parsed from text and matched.
 *
 * Accepted: "192.0.2.7" (a /32), "10.0.0.0/8", "2001:db8::/32", "::1" (a /128),
 * "::ffff:192.0.2.7" (IPv4-mapped). Host bits beyond the prefix must be zero
 * ("10.0.0.1/8" is refused) so that what is stored is what is meant. An IPv4-mapped
 * IPv6 address matches IPv4 ranges (the server sees them on dual-stack sockets).
 */
#ifndef LK_UTIL_CIDR_H
#define LK_UTIL_CIDR_H

#include <stdbool.h>
#include <stdint.h>

#define LK_CIDR_TEXT 64

typedef struct lk_ip {
    int family;                 /* 4 or 6 */
    uint8_t addr[16];           /* IPv4 in the first 4 bytes */
} lk_ip;

typedef struct lk_cidr {
    lk_ip ip;
    int prefix;                 /* 0..32 or 0..128 */
} lk_cidr;

/* an address (no prefix); false on anything else */
bool lk_ip_parse(const char *s, lk_ip *out);
/* a range or a single address; false (and why in *why, may be NULL) on bad input.
 * When the only fault is host bits beyond the prefix, *out holds the range with
 * them cleared (what was probably meant, for the message); after any other fault
 * *out is all zero (family 0). An IPv4-mapped range of prefix >= 96 comes back as
 * the IPv4 range it means ("::ffff:10.0.0.0/104" is "10.0.0.0/8"). */
bool lk_cidr_parse(const char *s, lk_cidr *out, const char **why);
/* canonical text: "10.0.0.0/8", "2001:db8::/32" (always with the prefix) */
void lk_cidr_format(const lk_cidr *c, char out[LK_CIDR_TEXT]);
bool lk_cidr_contains(const lk_cidr *c, const lk_ip *ip);
/* the address as text ("192.0.2.7", "2001:db8::1"); IPv4-mapped shown as IPv4 */
void lk_ip_format(const lk_ip *ip, char out[LK_CIDR_TEXT]);

#endif
