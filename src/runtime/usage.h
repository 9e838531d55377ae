/*
 * usage — counts of calls per day per API user, and of errors per day per code,
 * for the stats endpoints and `latchkey usage`.
 *
 * Counting is in memory (a mutex-guarded table; no I/O). lk_usage_take_deltas()
 * hands what changed since the last call to the writer, which adds it to the store
 * once a second, so a crash loses at most about one second of counts. Reads are
 * served from memory: the table holds the days loaded at start plus everything
 * counted since.
 */
#ifndef LK_RUNTIME_USAGE_H
#define LK_RUNTIME_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "util/arena.h"

#define LK_DAY_LEN 10  /* "YYYY-MM-DD" */

typedef struct lk_usage lk_usage;

lk_usage *lk_usage_new(void);
void lk_usage_free(lk_usage *u);

/* one counted call of an API user on day */
void lk_usage_count_call(lk_usage *u, const char *day, int64_t user_id, const char *user_email);
/* one error answered on day (code: "601", ...) */
void lk_usage_count_error(lk_usage *u, const char *day, const char *code);

/* loads stored counts (at start) without marking them as deltas */
void lk_usage_load(lk_usage *u, const lk_usage_rec *calls, size_t n_calls,
                   const lk_error_rec *errors, size_t n_errors);

/* Replaces the counts of from_day on (string order) with the stored ones — every
 * process's, as written — plus what this process counted and has not written yet.
 * Call it right after a write of the deltas succeeded, on the thread that writes
 * (nothing taken is then in the air). */
void lk_usage_refresh(lk_usage *u, const char *from_day, const lk_usage_rec *calls, size_t n_calls,
                      const lk_error_rec *errors, size_t n_errors);

/* the counts added since the previous take, in the arena; resets the deltas.
 * On a failed store write, give them back with lk_usage_restore_deltas(). */
void lk_usage_take_deltas(lk_usage *u, lk_arena *a, lk_usage_rec **calls, size_t *n_calls,
                          lk_error_rec **errors, size_t *n_errors);
void lk_usage_restore_deltas(lk_usage *u, const lk_usage_rec *calls, size_t n_calls,
                             const lk_error_rec *errors, size_t n_errors);

/* totals of one day, in the arena, ordered by user id / code */
void lk_usage_day(lk_usage *u, lk_arena *a, const char *day, lk_usage_rec **calls, size_t *n_calls,
                  lk_error_rec **errors, size_t *n_errors);
/* calls of one user (user_id > 0) or of everyone (0) on day */
int64_t lk_usage_calls(lk_usage *u, const char *day, int64_t user_id);

/* records counted and not yet taken by the writer */
size_t lk_usage_pending(lk_usage *u);

/* forgets days before `day` (string order) to bound memory */
void lk_usage_forget_before(lk_usage *u, const char *day);

#endif
