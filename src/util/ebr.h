/*
 * ebr — epoch-based reclamation: memory that readers on other threads may still be
 * looking at is freed only once none of them can be.
 *
 * Readers bracket their reads with lk_ebr_enter() / lk_ebr_exit() on one thread
 * (nesting allowed; the outermost pair counts). Inside, they may follow pointers
 * they load from shared structures without any lock. A writer that unlinks an
 * object hands it to lk_ebr_retire(); the object is freed by a later
 * lk_ebr_collect() once every reader that was inside when it was unlinked has left.
 *
 * Cost for a reader: one store into its own thread's slot (a cache line no other
 * reader writes) at enter and one at exit; no shared counter, no lock. Readers never
 * wait for writers, and writers never wait for readers: a long read only delays when
 * retired memory is freed.
 *
 * Contract: a read section begins and ends on the same thread, and must not span a
 * wait for other work (a suspended request re-enters on the thread that resumes it).
 * Retire and collect may be called from any thread (an internal mutex orders them).
 */
#ifndef LK_UTIL_EBR_H
#define LK_UTIL_EBR_H

#include <stddef.h>

typedef struct lk_ebr lk_ebr;

lk_ebr *lk_ebr_new(void);
/* frees everything still retired; no reader may be inside */
void lk_ebr_free(lk_ebr *d);

void lk_ebr_enter(lk_ebr *d);
void lk_ebr_exit(lk_ebr *d);

/* p is no longer reachable by new readers: fn(p) runs once no reader can hold it */
void lk_ebr_retire(lk_ebr *d, void *p, void (*fn)(void *));
/* frees what is safe to free now; cheap when nothing is retired */
void lk_ebr_collect(lk_ebr *d);
/* objects retired and not yet freed */
size_t lk_ebr_pending(lk_ebr *d);

#endif
