/* embedded — files compiled into the binary by tools/embed.c (NUL-terminated data). */
#ifndef LK_UTIL_EMBEDDED_H
#define LK_UTIL_EMBEDDED_H

#include <stddef.h>

typedef struct lk_embedded_file {
    const char *name;            /* base name; NULL ends the array */
    const unsigned char *data;   /* followed by a NUL byte */
    size_t size;                 /* without the NUL */
} lk_embedded_file;

#endif
