/*
 * cidr — addresses and CIDR ranges (see cidr.h).
 *
 * inet_pton reads the address part, so that exactly the notations the C library
 * accepts are accepted (dotted quads without leading zeros, RFC 4291 IPv6 text, no
 * zone ids); the prefix, the masks and the canonical text are ours.
 *
 * Invariants:
 *  - A parsed range has no bit set beyond its prefix.
 *  - An IPv4-mapped IPv6 range whose prefix covers the mapping (::ffff:0:0/96 or
 *    longer) is stored as the IPv4 range it means ("::ffff:10.0.0.0/104" is
 *    "10.0.0.0/8"), so one range has one canonical text and duplicates are found.
 *  - Formatting then parsing gives back the same range.
 */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int max_prefix(int family)
{
    return family == 4 ? 32 : 128;
}

static bool is_mapped(const lk_ip *ip)
{
    return ip->family == 6 && memcmp(ip->addr, MAPPED_PREFIX, sizeof MAPPED_PREFIX) == 0;
}

/* the first `bits` bits of a and b are equal */
static bool same_prefix(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* no bit at or after position `bits` is set */
static bool host_bits_clear(const uint8_t *addr, int family, int bits)
{
    int len = max_prefix(family) / 8;
    for (int i = bits / 8; i < len; i++) {
        uint8_t keep = i == bits / 8 && bits % 8 ? (uint8_t)(0xff << (8 - bits % 8)) : 0;
        if (addr[i] & (uint8_t)~keep)
            return false;
    }
    return true;
}

static void clear_host_bits(uint8_t *addr, int family, int bits)
{
    int len = max_prefix(family) / 8;
    for (int i = bits / 8; i < len; i++)
        addr[i] &= i == bits / 8 && bits % 8 ? (uint8_t)(0xff << (8 - bits % 8)) : 0;
}

bool lk_ip_parse(const char *s, lk_ip *out)
{
    char buf[LK_CIDR_TEXT];
    if (!s || !*s || strlen(s) >= sizeof buf)
        return false;
    memset(out, 0, sizeof *out);
    if (strchr(s, ':')) {
        out->family = 6;
        return inet_pton(AF_INET6, s, out->addr) == 1;
    }
    out->family = 4;
    return inet_pton(AF_INET, s, out->addr) == 1;
}

/* "0".."128" without sign, blanks or leading zeros */
static bool parse_prefix(const char *s, int *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 3 || s[n] != '\0' || (n > 1 && s[0] == '0'))
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return true;
}

/* every fault but host bits leaves *out zeroed (see cidr.h) */
static bool refuse(lk_cidr *out, const char **why, const char *reason)
{
    memset(out, 0, sizeof *out);
    if (why)
        *why = reason;
    return false;
}

bool lk_cidr_parse(const char *s, lk_cidr *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return refuse(out, why, "it is empty");
    if (strlen(s) >= LK_CIDR_TEXT)
        return refuse(out, why, "it is too long for an address");
    char addr[LK_CIDR_TEXT];
    snprintf(addr, sizeof addr, "%s", s);
    char *slash = strchr(addr, '/');
    if (slash)
        *slash = '\0';
    if (strpbrk(addr, "*-"))
        return refuse(out, why, "wildcards and ranges with '-' are not supported; "
                           "write a CIDR range such as 10.0.0.0/8");
    if (!lk_ip_parse(addr, &out->ip))
        return refuse(out, why, "it is not an IPv4 or IPv6 address");
    int max = max_prefix(out->ip.family);
    out->prefix = max;
    if (slash && !parse_prefix(slash + 1, &out->prefix))
        return refuse(out, why, "the prefix length after '/' must be a whole number without "
                           "leading zeros");
    if (out->prefix > max)
        return refuse(out, why, out->ip.family == 4 ? "the prefix length of an IPv4 range is at most 32"
                                               : "the prefix length of an IPv6 range is at most 128");
    if (!host_bits_clear(out->ip.addr, out->ip.family, out->prefix)) {
        clear_host_bits(out->ip.addr, out->ip.family, out->prefix); /* out: the range meant */
        if (why)
            *why = "the address has bits set beyond the prefix length";
        return false;
    }
    if (is_mapped(&out->ip) && out->prefix >= 96) {
        memmove(out->ip.addr, out->ip.addr + 12, 4);
        memset(out->ip.addr + 4, 0, 12);
        out->ip.family = 4;
        out->prefix -= 96;
    }
    return true;
}

void lk_ip_format(const lk_ip *ip, char out[LK_CIDR_TEXT])
{
    out[0] = '\0';
    if (ip->family == 4 || is_mapped(ip)) {
        /* inet_ntop's text without its sprintf: once per request */
        const uint8_t *a = ip->family == 4 ? ip->addr : ip->addr + 12;
        char *p = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = a[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
        return;
    }
    inet_ntop(AF_INET6, ip->addr, out, LK_CIDR_TEXT);
}

void lk_cidr_format(const lk_cidr *c, char out[LK_CIDR_TEXT])
{
    /* the longest IPv6 text is 45 characters, so "/128" always fits */
    char addr[INET6_ADDRSTRLEN] = "";
    inet_ntop(c->ip.family == 4 ? AF_INET : AF_INET6, c->ip.addr, addr, sizeof addr);
    snprintf(out, LK_CIDR_TEXT, "%s/%u", addr, (unsigned)c->prefix & 0xffu);
}

bool lk_cidr_contains(const lk_cidr *c, const lk_ip *ip)
{
    if (c->ip.family == 4) {
        if (ip->family == 4)
            return same_prefix(c->ip.addr, ip->addr, c->prefix);
        return is_mapped(ip) && same_prefix(c->ip.addr, ip->addr + 12, c->prefix);
    }
    if (ip->family == 6)
        return same_prefix(c->ip.addr, ip->addr, c->prefix);
    /* an IPv4 address against an IPv6 range: as its mapped form */
    uint8_t mapped[16];
    memcpy(mapped, MAPPED_PREFIX, sizeof MAPPED_PREFIX);
    memcpy(mapped + 12, ip->addr, 4);
    return same_prefix(c->ip.addr, mapped, c->prefix);
}
