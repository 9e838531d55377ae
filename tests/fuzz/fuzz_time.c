/*
 * fuzz_time — lk_time_parse on arbitrary bytes. Invariants: no crash or sanitizer
 * report; whatever parses formats back to text that parses to the same instant.
 */
#include "util/timefmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t t;
    if (lk_time_parse(s, &t)) {
        char buf[LK_TIME_BUF];
        int64_t back;
        if (!lk_time_parse(lk_time_format(t, buf), &back) || back != t)
            abort();
        if (!lk_time_parse(lk_time_format_marketo(t, buf), &back) || back != t)
            abort();
    }
    free(s);
    return 0;
}
