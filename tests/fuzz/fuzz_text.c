/*
 * fuzz_text — the checks on outside text (UTF-8, control characters, email) on
 * arbitrary bytes. Invariants: no crash; a valid email is valid UTF-8, has no
 * control character, and is at most 254 bytes.
 */
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    long n = lk_utf8_count(s);
    if (n >= 0)
        (void)lk_text_has_control(s, false);
    if (lk_email_valid(s)) {
        if (n < 0 || lk_text_has_control(s, true) || strlen(s) > 254)
            abort();
    }
    free(s);
    return 0;
}
