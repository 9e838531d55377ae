/*
 * timefmt — instants as int64 seconds since the Unix epoch (UTC), parsed from and
 * formatted to ISO-8601.
 *
 * Accepted input (outside input: parsers never read past the terminating NUL):
 *   YYYY-MM-DD                              midnight UTC starting that day
 *   YYYY-MM-DDTHH:MM[:SS[.fff]]<zone>       zone: Z, z, ±HH:MM, ±HHMM, ±HH
 *   YYYYMMDDTHH:MM:SS[.fff]<zone>           Marketo's compact form
 * 'T' may be 't' or a space; Marketo writes a literal 't' before the zone
 * ("20200731T20:49:54.0t+0000"), which is accepted too. A date-time without a zone
 * is refused: the instant would be ambiguous. The instant, once the zone is applied,
 * must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
 */
#ifndef LK_UTIL_TIMEFMT_H
#define LK_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#define LK_TIME_BUF 32
#define LK_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* true and *out set on success; false on any malformed or out-of-range input. */
bool lk_time_parse(const char *s, int64_t *out);

/* "2026-11-27T23:17:27Z" into buf (LK_TIME_BUF bytes); returns buf. */
char *lk_time_format(int64_t t, char buf[LK_TIME_BUF]);

/* Marketo user-management form "2026-11-27T23:17:27.000t+0000"; returns buf. */
char *lk_time_format_marketo(int64_t t, char buf[LK_TIME_BUF]);

/* The local calendar day (process time zone, TZ) `days_back` days before t's day:
 * "YYYY-MM-DD" into text (11 bytes); number (may be NULL) = days since 1970-01-01
 * of that date; next_midnight (may be NULL) = when the day after it starts. */
void lk_local_day(int64_t t, int days_back, char text[11], int64_t *number, int64_t *next_midnight);

/* true for "UTC" and for IANA zone names this system has (/usr/share/zoneinfo) */
bool lk_time_zone_known(const char *tz);

/* seconds since the epoch, from the real-time clock */
int64_t lk_time_now(void);

#endif
