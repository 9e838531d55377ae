/*
 * fuzz_cidr — the allowlist's parser of addresses and CIDR ranges (util/cidr.h) on
 * arbitrary bytes. Invariants: no crash; whatever parses as a range formats to
 * text that parses to the same range (family, prefix, address bytes) and formats
 * the same again, and the range contains its own address; whatever parses as an
 * address is contained in the range its own text parses to.
 */
#include "util/cidr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_range(const char *s)
{
    lk_cidr a, b;
    const char *why = NULL;
    if (!lk_cidr_parse(s, &a, &why)) {
        if (!why)
            abort();
        return;
    }
    char text[LK_CIDR_TEXT], again[LK_CIDR_TEXT];
    lk_cidr_format(&a, text);
    if (!lk_cidr_parse(text, &b, NULL))
        abort();
    if (a.ip.family != b.ip.family || a.prefix != b.prefix || memcmp(a.ip.addr, b.ip.addr, 16) != 0)
        abort();
    lk_cidr_format(&b, again);
    if (strcmp(text, again) != 0)
        abort();
    if (!lk_cidr_contains(&a, &a.ip))
        abort();
}

static void check_address(const char *s)
{
    lk_ip ip;
    if (!lk_ip_parse(s, &ip))
        return;
    lk_cidr own;
    if (!lk_cidr_parse(s, &own, NULL) || !lk_cidr_contains(&own, &ip))
        abort();
    char text[LK_CIDR_TEXT];
    lk_ip_format(&ip, text);
    lk_ip back;
    if (!lk_ip_parse(text, &back) || !lk_cidr_contains(&own, &back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_range(s);
    check_address(s);
    free(s);
    return 0;
}
