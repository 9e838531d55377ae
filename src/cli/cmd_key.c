/*
 * cmd_key — `latchkey key list|rotate`: the keys that sign access tokens
 * (runtime/keys.h). The key material is never printed; `list` shows ids and ages.
 */
#include "cli/cli.h"

#include "core/token_keys.h"
#include "runtime/keys.h"
#include "store/store.h"

static const lk_cli_opt key_opts[] = {
    {"key-file", LK_CLI_TEXT, "PATH", false, 0, 0,
     "the key file (else token_key_file of the server's configuration, else the database's path + .keys)"},
    {.name = NULL},
};

static const lk_cli_opt rotate_opts[] = {
    {"key-file", LK_CLI_TEXT, "PATH", false, 0, 0,
     "the key file (else token_key_file of the server's configuration, else the database's path + .keys)"},
    {"force", LK_CLI_FLAG, NULL, false, 0, 0,
     "rotate even though the tokens of the key dropped may still be in use"},
    {.name = NULL},
};

/* the key file this command works on, and the server's configuration */
static lk_code key_path(lk_cli_cmd *c, lk_config *cfg, const char **out)
{
    lk_code code = lk_cli_config(c, cfg);
    if (code != LK_OK)
        return code;
    const char *given = lk_cli_str(c, "key-file");
    if (given && *given) {
        *out = given;
        return LK_OK;
    }
    if (cfg->token_key_file[0]) {
        *out = lk_arena_strdup(c->arena, cfg->token_key_file);
        return LK_OK;
    }
    char path[4200];
    if (!lk_keys_default_path(lk_store_default_location(c->db), path, sizeof path))
        return lk_cli_usage(c, "key-file", "the database is not a file: give --key-file");
    *out = lk_arena_strdup(c->arena, path);
    return LK_OK;
}

static lk_code emit(lk_cli_cmd *c, const char *path, const lk_keyring *ring, int dropped)
{
    if (c->json) {
        json_t *keys = json_array();
        for (int i = 0; i < ring->n; i++)
            json_array_append_new(keys, json_pack("{s:i, s:o, s:b}", "id", ring->keys[i].id, "createdAt",
                                                  lk_cli_json_time(ring->keys[i].created_at), "signs", i == 0));
        json_t *doc = json_pack("{s:o, s:o}", "keyFile", lk_cli_json_str(path), "keys", keys);
        if (dropped >= -1)
            json_object_set_new(doc, "dropped", dropped >= 0 ? json_integer(dropped) : json_null());
        return lk_cli_emit(doc);
    }
    lk_cli_field(c, "Key file", path);
    lk_table t;
    lk_table_init(&t, c->arena, 3);
    lk_table_row(&t, "KEY", "CREATED", "USE");
    for (int i = 0; i < ring->n; i++)
        lk_table_row(&t, lk_cli_i64(c, ring->keys[i].id), lk_cli_time(c, ring->keys[i].created_at, "-"),
                     i == 0 ? "signs new tokens and verifies" : "verifies the tokens it signed");
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code key_list(lk_cli_cmd *c)
{
    lk_config cfg;
    const char *path;
    lk_code code = key_path(c, &cfg, &path);
    if (code != LK_OK)
        return code;
    lk_keyring ring;
    code = lk_keys_load(path, false, c->op->now, &ring, &c->op->err);
    if (code == LK_ENOTFOUND)
        lk_fail(&c->op->err, code, "key-file", "there is no key file at %s ('latchkey serve' makes it at its first start)",
                path);
    if (code != LK_OK)
        return code;
    code = emit(c, path, &ring, -2);
    lk_keyring_clear(&ring);
    return code;
}

typedef struct rotation {
    const char *path;
    int64_t now, min_age;
    bool force;
    int dropped;
    lk_keyring ring;
} rotation;

static lk_code rotate_file(void *ctx, int *signing, int *dropped, lk_error *err)
{
    rotation *r = ctx;
    lk_keyring before;
    lk_code code = lk_keys_load(r->path, false, r->now, &before, err);
    if (code == LK_ENOTFOUND)
        lk_fail(err, code, "key-file", "there is no key file at %s ('latchkey serve' makes it at its first start)",
                r->path);
    if (code != LK_OK)
        return code;
    *dropped = r->dropped = before.n > 1 ? before.keys[1].id : -1;
    lk_keyring_clear(&before);
    code = lk_keys_rotate(r->path, r->now, r->min_age, r->force, &r->ring, err);
    if (code == LK_OK)
        *signing = r->ring.keys[0].id;
    return code;
}

static lk_code key_rotate(lk_cli_cmd *c)
{
    lk_config cfg;
    rotation r = {.now = c->op->now, .force = lk_cli_flag(c, "force")};
    lk_code code = key_path(c, &cfg, &r.path);
    if (code != LK_OK)
        return code;
    r.min_age = cfg.token_ttl;
    code = lk_token_keys_rotate(c->op, rotate_file, &r);
    if (code != LK_OK) {
        lk_keyring_clear(&r.ring);
        return code;
    }
    if (c->json) {
        code = emit(c, r.path, &r.ring, r.dropped);
    } else {
        printf("Key %d now signs new tokens; key %d still verifies the tokens it signed until they expire.\n",
               r.ring.keys[0].id, r.ring.keys[1].id);
        if (r.dropped >= 0)
            printf("Key %d was dropped: the tokens it signed no longer work.\n", r.dropped);
    }
    lk_keyring_clear(&r.ring);
    return code;
}

static const lk_cli_verb key_verbs[] = {
    {
        .name = "list",
        .opts = key_opts,
        .run = key_list,
        .read_only = true,
        .summary = "the token keys: which one signs, which ones verify",
        .help = "Lists the keys of the key file (ids and creation times, never the keys): the\n"
                "first signs new access tokens, a second one only verifies the tokens it signed.\n",
    },
    {
        .name = "rotate",
        .opts = rotate_opts,
        .run = key_rotate,
        .summary = "make a new key sign new tokens; the current one keeps verifying",
        .help = "Writes a new key into the key file as the signing key and keeps the current\n"
                "one to verify the tokens it signed; an older second key is dropped, and its\n"
                "tokens stop working. Refused while the signing key is younger than token_ttl\n"
                "(unless --force), since the tokens of the dropped key may still be in use.\n"
                "Running servers read the file again at once (the change feed tells them).\n",
    },
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_key = {
    .name = "key",
    .summary = "the keys that sign access tokens",
    .verbs = key_verbs,
};
