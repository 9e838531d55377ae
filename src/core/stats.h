/* stats — stored daily usage and error counts, for `latchkey usage`. */
#ifndef LK_CORE_STATS_H
#define LK_CORE_STATS_H

#include "core/op.h"

/* records with from_day <= day <= to_day ("YYYY-MM-DD"), ordered by day */
lk_code lk_stats_range(lk_op *op, const char *from_day, const char *to_day, lk_usage_rec **calls, size_t *n_calls,
                       lk_error_rec **errors, size_t *n_errors);

#endif
