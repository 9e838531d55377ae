/*
 * fuzz_token — the access token decoder (core/token.h) on arbitrary bytes, with a
 * fixed key. Invariants: no crash; anything accepted is 64 characters that encode
 * back to exactly the same token (one spelling per token); a token id that parses
 * prints back the same.
 */
#include "core/token.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lk_token_key key;
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        key.id = 1;
        memset(key.key, 0x5a, sizeof key.key); /* fixed, so that a found input replays */
        ready = 1;
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    lk_token_fields f;
    if (lk_token_decode(&key, 1, s, &f)) {
        char again[LK_TOKEN_LEN + 1];
        if (strlen(s) != LK_TOKEN_LEN || !lk_token_encode(&key, &f, again) || strcmp(again, s) != 0)
            abort();
    }
    unsigned char id[LK_TOKEN_ID_BYTES];
    if (lk_token_id_parse(s, id)) {
        char hex[LK_TOKEN_ID_HEX];
        lk_token_id_hex(id, hex);
        if (strcasecmp(hex, s) != 0)
            abort();
    }
    free(s);
    return 0;
}
