/*
 * text — checks on human-entered text from outside: UTF-8 validity, character
 * counts, control characters, email syntax.
 */
#ifndef LK_UTIL_TEXT_H
#define LK_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Length in bytes of the well-formed UTF-8 sequence starting at s (1 for ASCII and
 * for the NUL), 0 if s does not start with one (overlong, surrogate, truncated). */
size_t lk_utf8_seq(const char *s);
/* the same within n bytes (s need not be NUL-terminated) */
size_t lk_utf8_seqn(const char *s, size_t n);

/* The length of s's longest prefix of at most max bytes that does not end inside a
 * character: cutting s there never splits a multi-byte sequence. */
size_t lk_utf8_cut(const char *s, size_t max);

/* Replaces, in place, every byte of s that does not start or belong to a
 * well-formed UTF-8 sequence with '?', so that s is valid UTF-8 afterwards. */
void lk_utf8_repair(char *s);

/* Number of code points if s is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else -1. */
long lk_utf8_count(const char *s);

/* the value of a hexadecimal digit, either case ('0'..'9', 'a'..'f', 'A'..'F'), else -1:
 * for percent-decoding (forms, URL paths) */
int lk_hex_digit(unsigned char c);

/* true if s contains a C0/C1 control character, DEL, or a bidirectional embedding,
 * override or isolate (U+202A..U+202E, U+2066..U+2069: they make text display
 * differently from what it is); with allow_newlines, '\n', '\r' and '\t' are
 * permitted. s must be valid UTF-8. */
bool lk_text_has_control(const char *s, bool allow_newlines);

/* true if s is empty or only white space, Unicode spaces included (U+00A0,
 * U+1680, U+2000..U+200B, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF).
 * s must be valid UTF-8. */
bool lk_text_is_blank(const char *s);

/* true if s starts or ends with white space as lk_text_is_blank() counts it.
 * s must be valid UTF-8. */
bool lk_text_has_outer_space(const char *s);

/* Pragmatic address check: one '@', a local part of 1..64 printable ASCII
 * characters from the RFC 5322 atom set plus dots (no leading, trailing or double
 * dot), a domain of dot-separated LDH labels (1..63 each, at least two labels),
 * 254 bytes at most in all. Internationalised addresses are refused. */
bool lk_email_valid(const char *s);

/* ASCII case-insensitive equality */
bool lk_str_ieq(const char *a, const char *b);

#endif
