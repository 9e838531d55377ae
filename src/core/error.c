/* error — the catalog table and the helper that fills an lk_error. */
#include "core/error.h"
#include "util/text.h"

#include <stdio.h>
#include <string.h>

static const lk_code_info catalog[LK_CODE_COUNT] = {
    [LK_OK]         = {LK_OK,         "ok",           0, 200, NULL},
    [LK_EINVAL]     = {LK_EINVAL,     "invalid",      1, 400, "1003"},
    [LK_ENOTFOUND]  = {LK_ENOTFOUND,  "not_found",    2, 404, "1004"},
    [LK_EEXISTS]    = {LK_EEXISTS,    "exists",       1, 409, "1005"},
    [LK_ERULE]      = {LK_ERULE,      "rule",         1, 409, "709"},
    [LK_EINUSE]     = {LK_EINUSE,     "in_use",       1, 409, "611"},
    [LK_ELASTADMIN] = {LK_ELASTADMIN, "last_admin",   1, 409, "709"},
    [LK_EAUTH]      = {LK_EAUTH,      "unauthorized", 1, 401, "601"},
    [LK_EDENIED]    = {LK_EDENIED,    "forbidden",    1, 403, "603"},
    [LK_ESCHEMA]    = {LK_ESCHEMA,    "schema",       3, 500, "611"},
    [LK_ESTORE]     = {LK_ESTORE,     "storage",      3, 500, "611"},
};

const lk_code_info *lk_code_info_of(lk_code code)
{
    if ((unsigned)code >= LK_CODE_COUNT)
        code = LK_ESTORE;
    return &catalog[code];
}

lk_code lk_fail(lk_error *err, lk_code code, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* a quoted input cut by a precision ("%.254s") or by the buffer may end inside a
     * character; the message travels as JSON, which must be valid UTF-8 */
    lk_utf8_repair(err->msg);
    return code;
}

void lk_error_clear(lk_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}
