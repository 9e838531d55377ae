/*
 * keys — reading, creating and rotating the token key file (keys.h).
 */
#include "runtime/keys.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_B64 (sodium_base64_ENCODED_LEN(LK_TOKEN_KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
#define HEADER "# latchkey token keys: keep secret (mode 0600); the first key signs new tokens, a second\n" \
               "# one only verifies them (see docs/security.md). Columns: key id, created at, key.\n"

bool lk_keys_default_path(const char *db_location, char *out, size_t out_len)
{
    out[0] = '\0';
    char file[4096];
    if (!lk_store_file_path(db_location, file, sizeof file))
        return false;
    return (size_t)snprintf(out, out_len, "%s.keys", file) < out_len;
}

void lk_keyring_clear(lk_keyring *k)
{
    sodium_memzero(k, sizeof *k);
}

uint64_t lk_keys_file_stamp(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    uint64_t h = (uint64_t)st.st_ino * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)st.st_size + ((uint64_t)st.st_mtim.tv_sec << 20) + (uint64_t)st.st_mtim.tv_nsec;
    return h ? h : 1;
}

static lk_code parse(const char *path, const char *text, lk_keyring *out, lk_error *err)
{
    memset(out, 0, sizeof *out);
    int line_no = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[256];
        line_no++;
        if (len >= sizeof line)
            return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s: line %d is too long", path, line_no);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (end ? 1 : 0);
        if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
            continue;
        int id = -1;
        long long created = -1;
        char b64[128] = "";
        int consumed = 0;
        if (sscanf(line, "%d %lld %127s%n", &id, &created, b64, &consumed) != 3 || id < 0 || id > 255 ||
            created < 0 || line[consumed + (int)strspn(line + consumed, " \t\r")] != '\0')
            return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s: line %d is not 'ID CREATED KEY'", path, line_no);
        if (out->n == LK_KEYS_MAX)
            return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s: more than %d keys", path, LK_KEYS_MAX);
        lk_token_key *k = &out->keys[out->n];
        size_t n = 0;
        if (sodium_base642bin(k->key, sizeof k->key, b64, strlen(b64), NULL, &n, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            n != sizeof k->key)
            return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s: line %d: the key is not %d bytes of base64url",
                           path, line_no, LK_TOKEN_KEY_BYTES);
        k->id = id;
        k->created_at = created;
        for (int i = 0; i < out->n; i++)
            if (out->keys[i].id == id)
                return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s: key id %d twice", path, id);
        out->n++;
    }
    if (out->n == 0)
        return lk_fail(err, LK_ESCHEMA, "token_key_file", "%s holds no key", path);
    return LK_OK;
}

/* reads the file into buf (wiped by the caller); LK_ENOTFOUND when absent */
static lk_code read_file(const char *path, char *buf, size_t cap, lk_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return LK_ENOTFOUND;
        return lk_fail(err, LK_ESTORE, "token_key_file", "cannot open the key file %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lk_fail(err, LK_ESTORE, "token_key_file", "the key file %s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return lk_fail(err, LK_ERULE, "token_key_file",
                       "the key file %s can be read by other users (mode %03o); run 'chmod 600 %s'", path,
                       (unsigned)(st.st_mode & 0777), path);
    }
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            close(fd);
            return lk_fail(err, LK_ESTORE, "token_key_file", "cannot read the key file %s: %s", path,
                           strerror(errno));
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len == cap - 1) {
            close(fd);
            return lk_fail(err, LK_ESCHEMA, "token_key_file", "the key file %s is too large", path);
        }
    }
    buf[len] = '\0';
    close(fd);
    return LK_OK;
}

static void fsync_dir_of(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* writes the ring into a new temporary file next to path (0600, fsynced); its name in tmp */
static lk_code write_temp(const char *path, const lk_keyring *k, char *tmp, size_t tmp_len, lk_error *err)
{
    unsigned char r[6];
    randombytes_buf(r, sizeof r);
    snprintf(tmp, tmp_len, "%s.tmp-%02x%02x%02x%02x%02x%02x", path, r[0], r[1], r[2], r[3], r[4], r[5]);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return lk_fail(err, LK_ESTORE, "token_key_file", "cannot write the key file %s: %s", path, strerror(errno));
    char text[1024];
    size_t len = (size_t)snprintf(text, sizeof text, "%s", HEADER);
    for (int i = 0; i < k->n; i++) {
        char b64[KEY_B64];
        sodium_bin2base64(b64, sizeof b64, k->keys[i].key, sizeof k->keys[i].key,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        len += (size_t)snprintf(text + len, sizeof text - len, "%d %lld %s\n", k->keys[i].id,
                                (long long)k->keys[i].created_at, b64);
        sodium_memzero(b64, sizeof b64);
    }
    bool ok = (size_t)write(fd, text, len) == len && fsync(fd) == 0;
    sodium_memzero(text, sizeof text);
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(tmp);
        return lk_fail(err, LK_ESTORE, "token_key_file", "cannot write the key file %s: %s", path, strerror(errno));
    }
    return LK_OK;
}

lk_code lk_keys_load(const char *path, bool create, int64_t now, lk_keyring *out, lk_error *err)
{
    char buf[2048];
    for (int attempt = 0; attempt < 2; attempt++) {
        lk_code rc = read_file(path, buf, sizeof buf, err);
        if (rc == LK_OK) {
            rc = parse(path, buf, out, err);
            sodium_memzero(buf, sizeof buf);
            if (rc != LK_OK)
                lk_keyring_clear(out);
            return rc;
        }
        if (rc != LK_ENOTFOUND)
            return rc;
        if (!create)
            return lk_fail(err, LK_ENOTFOUND, "token_key_file", "there is no key file at %s", path);
        /* first start: a new file, made visible with link() so that of two processes
         * starting at once one creates it and the other reads that one */
        lk_keyring fresh = {.n = 1};
        lk_token_key_generate(&fresh.keys[0], 1, now);
        char tmp[4200];
        rc = write_temp(path, &fresh, tmp, sizeof tmp, err);
        if (rc != LK_OK) {
            lk_keyring_clear(&fresh);
            return rc;
        }
        int linked = link(tmp, path);
        int link_errno = errno;
        unlink(tmp);
        if (linked == 0) {
            fsync_dir_of(path);
            *out = fresh;
            lk_keyring_clear(&fresh);
            return LK_OK;
        }
        lk_keyring_clear(&fresh);
        if (link_errno != EEXIST)
            return lk_fail(err, LK_ESTORE, "token_key_file", "cannot create the key file %s: %s", path,
                           strerror(link_errno));
        /* another process made it meanwhile: read that one */
    }
    return lk_fail(err, LK_ESTORE, "token_key_file", "cannot read the key file %s", path);
}

lk_code lk_keys_rotate(const char *path, int64_t now, int64_t min_age, bool force, lk_keyring *out, lk_error *err)
{
    lk_keyring cur;
    lk_code rc = lk_keys_load(path, false, now, &cur, err);
    if (rc != LK_OK)
        return rc;
    if (!force && cur.n > 1 && now - cur.keys[0].created_at < min_age) {
        int64_t left = min_age - (now - cur.keys[0].created_at);
        int dropped = cur.keys[1].id;
        lk_keyring_clear(&cur);
        return lk_fail(err, LK_ERULE, "key",
                       "the signing key is younger than %lld seconds: rotating now would stop the tokens of key "
                       "%d at once; wait %lld seconds or use --force",
                       (long long)min_age, dropped, (long long)left);
    }
    lk_keyring next = {.n = 2};
    lk_token_key_generate(&next.keys[0], (cur.keys[0].id + 1) % 256, now);
    next.keys[1] = cur.keys[0];
    lk_keyring_clear(&cur);
    char tmp[4200];
    rc = write_temp(path, &next, tmp, sizeof tmp, err);
    if (rc == LK_OK && rename(tmp, path) != 0) {
        rc = lk_fail(err, LK_ESTORE, "token_key_file", "cannot replace the key file %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    if (rc == LK_OK) {
        fsync_dir_of(path);
        *out = next;
    }
    lk_keyring_clear(&next);
    return rc;
}
