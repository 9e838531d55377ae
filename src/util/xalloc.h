/*
 * xalloc — allocation that never returns NULL.
 *
 * On out-of-memory the process prints one line and aborts, so callers need no NULL
 * checks (the Redis zmalloc convention). Memory from these functions is released
 * with free().
 */
#ifndef LK_UTIL_XALLOC_H
#define LK_UTIL_XALLOC_H

#include <stddef.h>

void *lk_xmalloc(size_t n);                 /* caller frees */
void *lk_xcalloc(size_t count, size_t n);   /* caller frees */
void *lk_xrealloc(void *p, size_t n);       /* caller frees */
char *lk_xstrdup(const char *s);            /* caller frees; NULL in, NULL out */

#endif
