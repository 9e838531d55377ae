/*
 * allowlist — the IP allowlist for REST calls and the identity endpoint: single
 * addresses and CIDR ranges, IPv4 and IPv6, off by default. Entries are stored in
 * canonical form (util/cidr.h). Every change is audited (area "IP Restrictions").
 */
#ifndef LK_CORE_ALLOWLIST_H
#define LK_CORE_ALLOWLIST_H

#include "core/op.h"

lk_code lk_allowlist_get(lk_op *op, bool *enabled, const char ***cidrs, size_t *n);
/* out: the canonical form that was stored (arena) */
lk_code lk_allowlist_add(lk_op *op, const char *cidr, const char **out);
lk_code lk_allowlist_remove(lk_op *op, const char *cidr);
/* enabling an empty list is refused: it would block every call */
lk_code lk_allowlist_enable(lk_op *op, bool enabled);

#endif
