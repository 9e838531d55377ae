/*
 * fuzz_multipart — the multipart/form-data parser on arbitrary bytes. The first line
 * of the input is the Content-Type (so the boundary varies too), the rest the body.
 * Invariants: no crash; on success at most LK_FORM_MAX_PARAMS fields, each name
 * non-empty, and every name and value a C string no longer than the body.
 */
#include "http/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - s) : size;
    lk_arena a = LK_ARENA_INIT;
    char *ct = lk_arena_strndup(&a, s, ct_len); /* stops at a NUL, as a header would */
    const char *body = nl ? nl + 1 : s + size;
    size_t len = (size_t)(s + size - body);
    lk_form form = {0};
    bool ok = lk_multipart_parse(&a, ct, body, len, &form);
    if (ok) {
        if (form.n > LK_FORM_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < form.n; i++)
            if (!*form.params[i].name || strlen(form.params[i].name) > len || strlen(form.params[i].value) > len)
                abort();
    }
    lk_arena_free(&a);
    return 0;
}
