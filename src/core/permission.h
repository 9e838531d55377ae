/*
 * permission — the catalog: built-in Access Admin and Access API permissions
 * (PRODUCT.md §1, seeded by the first migration) plus custom Access API ones.
 */
#ifndef LK_CORE_PERMISSION_H
#define LK_CORE_PERMISSION_H

#include "core/op.h"

/* the built-in names every front end refers to (seeded by migration 0001) */
#define LK_PERM_ACCESS_USERS "Access Users"
#define LK_PERM_ACCESS_ROLES "Access Roles"
#define LK_PERM_ACCESS_WORKSPACES "Access Workspaces"
#define LK_PERM_ACCESS_LAUNCHPOINT "Access LaunchPoint"
#define LK_PERM_ACCESS_WEB_SERVICES "Access Web Services"
#define LK_PERM_ACCESS_AUDIT_TRAIL "Access Audit Trail"
#define LK_PERM_ACCESS_LOGIN_HISTORY "Access Login History"
#define LK_PERM_USER_MGMT_API "Access User Management Api"

const char *lk_perm_group_name(lk_perm_group g); /* "Access Admin" / "Access API" */

lk_code lk_permission_list(lk_op *op, lk_permission **out, size_t *n);
lk_code lk_permission_find(lk_op *op, const char *name, lk_permission *out);
/* a custom Access API permission; name 1..255 characters, unique; description may be NULL */
lk_code lk_permission_create(lk_op *op, const char *name, const char *description, lk_permission *out);
/* custom ones only, and only while no role includes it */
lk_code lk_permission_delete(lk_op *op, const char *name);

#endif
