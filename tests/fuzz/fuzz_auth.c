/*
 * fuzz_auth — the Authorization header parser on arbitrary bytes. Invariants: no
 * crash; Bearer yields a token, Basic yields both a user and a password.
 */
#include "http/auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    memcpy(h, data, size);
    h[size] = '\0';
    lk_arena a = LK_ARENA_INIT;
    lk_auth auth = lk_auth_parse(&a, h);
    if (auth.scheme == LK_AUTH_BEARER && !auth.token)
        abort();
    if (auth.scheme == LK_AUTH_BASIC && (!auth.user || !auth.password))
        abort();
    lk_arena_free(&a);
    free(h);
    return 0;
}
