/*
 * fuzz_gwpath — the gateway's path decoding and pattern matching (core/gwpath.h) on
 * arbitrary bytes: the first line is a pattern, the rest a call's raw path.
 * Invariants: no crash; a decoded path holds no control character, no '\', ';',
 * '?', '#' or '%', no '.' or '..' segment and no empty segment but the last, and
 * decodes to itself again; a well-formed pattern is as specific as itself, and
 * matching it against the decoded path terminates.
 */
#include "core/gwpath.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decoded(const char *p)
{
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr("\\;?#%", *c))
            abort();
    if (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
        abort();
    size_t n = strlen(p);
    if ((n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
        abort();
    char again[LK_GWPATH_MAX + 1];
    if (!lk_gwpath_decode(p, n, again, sizeof again, NULL) || strcmp(again, p) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pattern = malloc(plen + 1);
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    const char *raw = nl ? (const char *)nl + 1 : "";
    size_t raw_len = nl ? size - plen - 1 : 0;

    char path[LK_GWPATH_MAX + 1];
    const char *why = NULL;
    bool ok = lk_gwpath_decode(raw, raw_len, path, sizeof path, &why);
    if (!ok && !why)
        abort();
    if (ok)
        check_decoded(path);
    if (lk_gwpath_pattern_ok(pattern, &why)) {
        if (lk_gwpath_compare(pattern, pattern) != 0)
            abort();
        if (ok)
            (void)lk_gwpath_match(pattern, path);
    } else if (!why) {
        abort();
    }
    free(pattern);
    return 0;
}
