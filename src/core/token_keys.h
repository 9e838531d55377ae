/*
 * token_keys — the record of a token key rotation: the change goes into the audit
 * trail and the change feed, so that every running server reads the key file again
 * at once (runtime/keys.h holds the file itself; the core does no file I/O).
 */
#ifndef LK_CORE_TOKEN_KEYS_H
#define LK_CORE_TOKEN_KEYS_H

#include "core/op.h"

/* replaces the key file; *signing gets the new signing key's id and *dropped the
 * id of the key no longer kept (-1: none) */
typedef lk_code (*lk_token_keys_fn)(void *ctx, int *signing, int *dropped, lk_error *err);

/* Runs fn inside a write transaction of the store — so that two rotations happen
 * one after the other, each from the file the other left — then records it (audit
 * event Token Keys / Rotate, a 'keys' row of the change feed) and commits. */
lk_code lk_token_keys_rotate(lk_op *op, lk_token_keys_fn fn, void *ctx);

#endif
