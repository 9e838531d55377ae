/*
 * gwpath — the paths of the gateway's route table: the syntax of a pattern, what
 * an upstream call's path is once decoded, whether a pattern matches it, and which
 * of two matching patterns is the more specific. Pure functions, no I/O.
 *
 * A pattern is '/'-separated segments, each one of
 *   - literal text (printable ASCII; no '%', '\', ';', '?', '#', space, braces);
 *   - a parameter: '{name}' with an optional literal prefix and suffix in the same
 *     segment ('{id}.json'), matching a non-empty part of one path segment;
 *   - '*' as the last segment: any non-empty rest of the path (one or more segments).
 * Matching is byte for byte, case-sensitive.
 *
 * The path of a call is checked the way an attacker would try to bend it: the
 * gateway forwards the request target as the client sent it, and the upstream
 * decodes it. So a path is decoded here first, and refused — never guessed at —
 * when an upstream could read it as another path: an encoded '/', '\' or '%', a
 * '\' or ';' at all (Windows and Java servers cut at them), a control character,
 * a '.' or '..' segment (literal or encoded), an empty segment ('//') anywhere but
 * at the end, or a target that is not a path (absolute-form, '*').
 */
#ifndef LK_CORE_GWPATH_H
#define LK_CORE_GWPATH_H

#include <stdbool.h>
#include <stddef.h>

#define LK_GWPATH_MAX 2048      /* the longest path a call may have, decoded */
#define LK_GWPATTERN_MAX 512    /* the longest pattern */

/* Is pattern well-formed? false with *why (static text) when not. */
bool lk_gwpath_pattern_ok(const char *pattern, const char **why);

/* Decodes the path of a request target (raw: as sent, percent-encoded, without
 * its query) into out (NUL-terminated). false with *why (static text) when the
 * path is refused (above) or longer than out_len - 1. */
bool lk_gwpath_decode(const char *raw, size_t raw_len, char *out, size_t out_len, const char **why);

/* Does the pattern match the decoded path? */
bool lk_gwpath_match(const char *pattern, const char *path);

/* Of two patterns that match one path, which is more specific: > 0 when a, < 0
 * when b, 0 when neither. Segment by segment from the left, the first that
 * differs decides: a literal beats a parameter with a prefix or suffix (the longer
 * literal part first), which beats a bare parameter, which beats '*'. */
int lk_gwpath_compare(const char *a, const char *b);

#endif
