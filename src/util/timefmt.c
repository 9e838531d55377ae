/*
 * timefmt — a strict hand-written ISO-8601 subset parser (see the header for the
 * grammar). Calendar arithmetic is done with days_from_civil() so that no libc
 * time-zone state (TZ, mktime) is involved: the result depends on the input only.
 */
#include "util/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static bool parse_zone(const char *p, int *offset_sec)
{
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *offset_sec = 0;
        return true;
    }
    if (p[0] != '+' && p[0] != '-')
        return false;
    int sign = p[0] == '-' ? -1 : 1;
    int hh, mm = 0;
    if (!digits(p + 1, 2, &hh))
        return false;
    const char *q = p + 3;
    if (*q == ':')
        q++;
    if (*q) {
        if (!digits(q, 2, &mm) || q[2] != '\0')
            return false;
    } else if (q[-1] == ':') {
        return false;
    }
    if (hh > 14 || mm > 59)
        return false;
    *offset_sec = sign * (hh * 3600 + mm * 60);
    return true;
}

bool lk_time_parse(const char *s, int64_t *out)
{
    if (!s)
        return false;
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *p;
    /* date: extended YYYY-MM-DD or basic YYYYMMDD (basic only with a time part) */
    if (!digits(s, 4, &y))
        return false;
    if (s[4] == '-') {
        if (!digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
            return false;
        p = s + 10;
    } else {
        if (!digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d))
            return false;
        p = s + 8;
        if (*p != 'T' && *p != 't')
            return false;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    int offset = 0;
    if (*p == '\0') {
        /* date only: midnight UTC */
    } else {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return false;
        p++;
        if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi))
            return false;
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &se))
                return false;
            p += 3;
            if (*p == '.') {
                p++;
                int nd = 0;
                while (*p >= '0' && *p <= '9' && nd < 9) {
                    p++;
                    nd++;
                }
                if (nd == 0)
                    return false;
            }
        }
        if (h > 23 || mi > 59 || se > 59)
            return false;
        if (*p == 't' && (p[1] == '+' || p[1] == '-'))
            p++; /* Marketo's literal 't' before the offset */
        if (!parse_zone(p, &offset))
            return false;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t t = days * 86400 + h * 3600 + mi * 60 + se - offset;
    /* the instant itself must lie in 1970..9999 UTC, so that it formats back */
    if (t < 0 || t > LK_TIME_MAX)
        return false;
    *out = t;
    return true;
}

static struct tm *utc(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    return gmtime_r(&tt, tm);
}

char *lk_time_format(int64_t t, char buf[LK_TIME_BUF])
{
    struct tm tm;
    if (!utc(t, &tm)) {
        snprintf(buf, LK_TIME_BUF, "invalid");
        return buf;
    }
    strftime(buf, LK_TIME_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

char *lk_time_format_marketo(int64_t t, char buf[LK_TIME_BUF])
{
    struct tm tm;
    if (!utc(t, &tm)) {
        snprintf(buf, LK_TIME_BUF, "invalid");
        return buf;
    }
    strftime(buf, LK_TIME_BUF, "%Y-%m-%dT%H:%M:%S.000t+0000", &tm);
    return buf;
}

void lk_local_day(int64_t t, int days_back, char text[11], int64_t *number, int64_t *next_midnight)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    if (days_back) {
        /* noon of the earlier day: safe across DST changes */
        struct tm back = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday - days_back,
                          .tm_hour = 12, .tm_isdst = -1};
        tt = mktime(&back);
        localtime_r(&tt, &tm);
    }
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    if (y >= 0 && y <= 9999) {
        /* "%04d-%02d-%02d" without stdio: called for every usage request */
        text[0] = (char)('0' + y / 1000);
        text[1] = (char)('0' + y / 100 % 10);
        text[2] = (char)('0' + y / 10 % 10);
        text[3] = (char)('0' + y % 10);
        text[4] = '-';
        text[5] = (char)('0' + m / 10);
        text[6] = (char)('0' + m % 10);
        text[7] = '-';
        text[8] = (char)('0' + d / 10);
        text[9] = (char)('0' + d % 10);
        text[10] = '\0';
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        snprintf(text, 11, "%.10s", buf);
    }
    if (number)
        *number = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (next_midnight) {
        struct tm next = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday + 1, .tm_isdst = -1};
        *next_midnight = (int64_t)mktime(&next);
    }
}

bool lk_time_zone_known(const char *tz)
{
    if (strcmp(tz, "UTC") == 0)
        return true;
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    return !strstr(tz, "..") && tz[0] != '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int64_t lk_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}
