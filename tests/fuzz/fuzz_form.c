/*
 * fuzz_form — the urlencoded parser (query strings and form bodies) on arbitrary
 * bytes. Invariants: no crash; on success every name and value is a C string whose
 * length fits in the input, and at most LK_FORM_MAX_PARAMS parameters come back.
 */
#include "http/form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_arena a = LK_ARENA_INIT;
    lk_form form = {0};
    if (lk_form_parse(&a, (const char *)data, size, &form)) {
        if (form.n > LK_FORM_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < form.n; i++)
            if (strlen(form.params[i].name) > size || strlen(form.params[i].value) > size)
                abort();
    }
    lk_arena_free(&a);
    return 0;
}
