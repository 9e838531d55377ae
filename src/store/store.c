/*
 * store — picks the storage implementation a location names.
 *
 * Locations: a file path, "sqlite:PATH" or "sqlite://PATH" open the embedded
 * SQLite store; "postgres://…" / "postgresql://…" (a libpq connection URI) the
 * PostgreSQL store. Any other "scheme://" is refused rather than taken for a file
 * name.
 */
#include "store/store.h"
#include "store/postgres/store_pg.h"
#include "store/sqlite/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static bool has_prefix(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* The length of "scheme" in "scheme://…", or 0 when s does not start that way. */
static size_t url_scheme_len(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    return n > 0 && strncmp(s + n, "://", 3) == 0 ? n : 0;
}

const char *lk_store_sqlite_path(const char *location, lk_error *err)
{
    if (!location || !*location) {
        lk_fail(err, LK_EINVAL, "database", "no database location given");
        return NULL;
    }
    if (has_prefix(location, "sqlite://"))
        return location + strlen("sqlite://");
    if (has_prefix(location, "sqlite:"))
        return location + strlen("sqlite:");
    if (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://")) {
        lk_fail(err, LK_EINVAL, "database",
                "this needs a SQLite database file, and the database is PostgreSQL (its own tools back it up: "
                "pg_dump; 'latchkey export' moves an instance)");
        return NULL;
    }
    size_t scheme = url_scheme_len(location);
    if (scheme) {
        lk_fail(err, LK_EINVAL, "database",
                "unknown database location '%.*s://…'; give a SQLite file path or a postgresql:// URL",
                (int)scheme, location);
        return NULL;
    }
    return location;
}

/* a PostgreSQL connection URI (libpq takes both schemes) */
static bool is_postgres(const char *location)
{
    return location && (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://"));
}

lk_store *lk_store_open(const char *location, lk_store_mode mode, lk_error *err)
{
    if (is_postgres(location))
        return lk_store_pg_open(location, mode, err);
    const char *path = lk_store_sqlite_path(location, err);
    return path ? lk_store_sqlite_open(path, mode, err) : NULL;
}

lk_code lk_store_inspect(const char *location, lk_store_info *out, lk_error *err)
{
    if (is_postgres(location))
        return lk_store_pg_inspect(location, out, err);
    const char *path = lk_store_sqlite_path(location, err);
    return path ? lk_store_sqlite_inspect(path, out, err) : LK_EINVAL;
}

bool lk_store_file_path(const char *location, char *out, size_t out_len)
{
    out[0] = '\0';
    if (!location || !*location)
        return false;
    if (has_prefix(location, "sqlite://"))
        location += strlen("sqlite://");
    else if (has_prefix(location, "sqlite:"))
        location += strlen("sqlite:");
    else if (url_scheme_len(location))
        return false;
    if (!*location || strlen(location) >= out_len)
        return false;
    memcpy(out, location, strlen(location) + 1);
    return true;
}

const char *lk_store_default_location(const char *explicit_location)
{
    if (explicit_location && *explicit_location)
        return explicit_location;
    const char *env = getenv("LATCHKEY_DB");
    if (env && *env)
        return env;
    return LK_DEFAULT_DB;
}

void lk_store_redact(const char *location, char *out, size_t out_len)
{
    if (!out_len)
        return;
    out[0] = '\0';
    if (!location)
        return;
    size_t o = 0;
    const char *auth = url_scheme_len(location) ? strstr(location, "://") + 3 : NULL;
    const char *at = auth ? strchr(auth, '@') : NULL;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    const char *slash = auth ? strchr(auth, '/') : NULL;
    if (colon && slash && slash < at)
        colon = NULL; /* an @ in the path: no user part */
    for (const char *p = location; *p && o + 1 < out_len;) {
        if (colon && p == colon + 1) {
            for (const char *r = "***"; *r && o + 1 < out_len; r++)
                out[o++] = *r;
            p = at;
            continue;
        }
        if ((p == location || p[-1] == '?' || p[-1] == '&') && strncasecmp(p, "password=", 9) == 0) {
            for (const char *r = "password=***"; *r && o + 1 < out_len; r++)
                out[o++] = *r;
            p += 9;
            while (*p && *p != '&')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

void lk_store_side_dir(const char *location, const char *key_file, char *out, size_t out_len)
{
    char file[4096];
    const char *base = lk_store_file_path(location, file, sizeof file) ? file
                       : key_file && *key_file                         ? key_file
                                                                       : NULL;
    const char *slash = base ? strrchr(base, '/') : NULL;
    if (!slash)
        snprintf(out, out_len, ".");
    else if (slash == base)
        snprintf(out, out_len, "/");
    else
        snprintf(out, out_len, "%.*s", (int)(slash - base), base);
}
