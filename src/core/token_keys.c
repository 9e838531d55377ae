/*
 * token_keys — recording a token key rotation (token_keys.h).
 */
#include "core/token_keys.h"
#include "core/internal.h"

lk_code lk_token_keys_rotate(lk_op *op, lk_token_keys_fn fn, void *ctx)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    int signing = -1, dropped = -1;
    rc = fn(ctx, &signing, &dropped, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->change_append(op->store, LK_CHANGE_KEYS, 0, op->now, &op->err);
    if (rc == LK_OK) {
        json_t *d = json_pack("{s:i}", "signingKey", signing);
        json_object_set_new(d, "droppedKey", dropped >= 0 ? json_integer(dropped) : json_null());
        rc = lk_audit_json(op, "Token Keys", "Rotate", "token keys", d);
    }
    return lk_tx_end(op, rc);
}
