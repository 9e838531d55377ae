/* runas — see runas.h. */
#include "util/runas.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The owner of path or of the nearest existing folder above it. */
static int owner_of(const char *path, struct stat *sb)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return -1;
    for (;;) {
        if (stat(p, sb) == 0)
            return 0;
        if (errno != ENOENT && errno != ENOTDIR)
            return -1;
        char *slash = strrchr(p, '/');
        if (!slash)
            return stat(".", sb);
        if (slash == p)
            return stat("/", sb);
        *slash = '\0';
    }
}

int lk_become_owner(const char *path, char *err, size_t err_len)
{
    struct stat sb;
    if (geteuid() != 0 || owner_of(path, &sb) != 0 || sb.st_uid == 0)
        return 0;
    const struct passwd *pw = getpwuid(sb.st_uid);
    gid_t gid = pw ? pw->pw_gid : sb.st_gid;
    int rc = pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL);
    if (rc == 0)
        rc = setgid(gid);
    if (rc == 0)
        rc = setuid(sb.st_uid);
    if (rc != 0) {
        snprintf(err, err_len, "cannot switch to the owner of %s (uid %lu): %s", path, (unsigned long)sb.st_uid,
                 strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {   /* the switch must be for good */
        snprintf(err, err_len, "cannot drop root's rights for the owner of %s", path);
        return -1;
    }
    return 0;
}
