/*
 * store — picks the storage implementation a location names.
 *
 * Locations: a file path, "sqlite:PATH" or "sqlite://PATH" open the embedded
 * SQLite store. "postgres://…" / "postgresql://…" name the PostgreSQL store,
 * which this build does not contain; any other "scheme://" is refused rather
 * than taken for a file name.
 */
#include "store/store.h"
#include "store/sqlite/store_sqlite.h"

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
    if (has_prefix(location, "postgres:") || has_prefix(location, "postgresql:")) {
        lk_fail(err, LK_EINVAL, "database",
                "PostgreSQL storage is not available in this build; use a SQLite file path");
        return NULL;
    }
    if (has_prefix(location, "sqlite://"))
        return location + strlen("sqlite://");
    if (has_prefix(location, "sqlite:"))
        return location + strlen("sqlite:");
    size_t scheme = url_scheme_len(location);
    if (scheme) {
        lk_fail(err, LK_EINVAL, "database",
                "unknown database location '%.*s://…'; give a SQLite file path", (int)scheme, location);
        return NULL;
    }
    return location;
}

lk_store *lk_store_open(const char *location, lk_store_mode mode, lk_error *err)
{
    const char *path = lk_store_sqlite_path(location, err);
    return path ? lk_store_sqlite_open(path, mode, err) : NULL;
}

lk_code lk_store_inspect(const char *location, lk_store_info *out, lk_error *err)
{
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
