/* workspace — named scopes for role grants; 0 "AllZones" and 1 "Default" always exist. */
#ifndef LK_CORE_WORKSPACE_H
#define LK_CORE_WORKSPACE_H

#include "core/op.h"

lk_code lk_workspace_list(lk_op *op, lk_workspace **out, size_t *n);
/* by name (case-insensitive) or by numeric id given as text */
lk_code lk_workspace_find(lk_op *op, const char *name_or_id, lk_workspace *out);
/* name 1..255 characters, unique; description optional (NULL), <= 1000 characters */
lk_code lk_workspace_create(lk_op *op, const char *name, const char *description, lk_workspace *out);

#endif
