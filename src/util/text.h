/*
 * text — checks on human-entered text from outside: UTF-8 validity, character
 * counts, control characters, email syntax.
 */
#ifndef LK_UTIL_TEXT_H
#define LK_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Number of code points if s is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else -1. */
long lk_utf8_count(const char *s);

/* true if s contains a C0/C1 control character or DEL; with allow_newlines,
 * '\n', '\r' and '\t' are permitted. s must be valid UTF-8. */
bool lk_text_has_control(const char *s, bool allow_newlines);

/* Pragmatic address check: one '@', a local part of 1..64 printable ASCII
 * characters from the RFC 5322 atom set plus dots (no leading, trailing or double
 * dot), a domain of dot-separated LDH labels (1..63 each, at least two labels),
 * 254 bytes at most in all. Internationalised addresses are refused. */
bool lk_email_valid(const char *s);

/* ASCII case-insensitive equality */
bool lk_str_ieq(const char *a, const char *b);

#endif
