/*
 * fuzz_usermgmt — the user management API's JSON bodies on arbitrary bytes. The
 * first byte chooses the parser (invite, update, roles); the rest is the body.
 * Invariants: no crash or leak; a problem always has a code (609, 701, 1003) and a
 * message; on success the required fields are non-empty strings and every grant
 * names a non-negative role id and a workspace.
 */
#include "api/usermgmt_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_problem(const lk_um_problem *p)
{
    if ((p->code != LK_UM_BAD_JSON && p->code != LK_UM_BLANK && p->code != LK_UM_INVALID) || !p->message[0])
        abort();
}

static void check_grants(const lk_grant_ref *g, size_t n)
{
    if (n == 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (g[i].role || g[i].role_id < 0 || !g[i].workspace || !*g[i].workspace)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    lk_arena a = LK_ARENA_INIT;
    lk_um_problem p = {0};
    switch (data[0] % 3) {
    case 0: {
        lk_user_input in;
        if (!lk_um_parse_invite(&a, body, len, &in, &p))
            check_problem(&p);
        else if (!in.email || !*in.email || !in.first_name || !*in.first_name || !in.last_name || !*in.last_name)
            abort();
        else
            check_grants(in.grants, in.n_grants);
        break;
    }
    case 1: {
        lk_user_change ch;
        int api_only;
        if (!lk_um_parse_update(&a, body, len, &ch, &api_only, &p))
            check_problem(&p);
        else if (api_only < -1 || api_only > 1 || (ch.email && !*ch.email) || (ch.expires && !*ch.expires))
            abort();
        break;
    }
    default: {
        lk_grant_ref *g;
        size_t n;
        if (!lk_um_parse_grants(&a, body, len, &g, &n, &p))
            check_problem(&p);
        else
            check_grants(g, n);
        break;
    }
    }
    lk_arena_free(&a);
    return 0;
}
