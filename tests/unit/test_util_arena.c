/* test_util_arena — allocation, alignment, big blocks, strings, growth, free, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/arena.h"

#include <string.h>

static void allocations_are_zeroed_and_aligned(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    for (int i = 1; i < 3000; i += 37) {
        unsigned char *p = lk_arena_alloc(&a, (size_t)i);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (int j = 0; j < i; j++)
            assert_int_equal(p[j], 0);
        memset(p, 0xAB, (size_t)i);
    }
    lk_arena_free(&a);
    assert_null(a.head);
}

static void big_blocks_and_small_ones_coexist(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    char *small1 = lk_arena_strdup(&a, "before");
    char *big = lk_arena_alloc(&a, 100000);
    memset(big, 'x', 100000);
    char *small2 = lk_arena_strdup(&a, "after");
    assert_string_equal(small1, "before");
    assert_string_equal(small2, "after");
    assert_int_equal(big[99999], 'x');
    lk_arena_free(&a);
}

static void strings(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    assert_null(lk_arena_strdup(&a, NULL));
    assert_string_equal(lk_arena_strndup(&a, "abcdef", 3), "abc");
    assert_string_equal(lk_arena_printf(&a, "%s-%d", "role", 42), "role-42");
    lk_arena_free(&a);
}

static void grow_keeps_content(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    int *v = NULL;
    size_t cap = 0;
    for (int i = 0; i < 1000; i++) {
        if ((size_t)i == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            v = lk_arena_grow(&a, v, cap * sizeof *v, ncap * sizeof *v);
            cap = ncap;
        }
        v[i] = i;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i);
    lk_arena_free(&a);
    /* reusable after free */
    assert_string_equal(lk_arena_strdup(&a, "again"), "again");
    lk_arena_free(&a);
}

static void reset_keeps_one_chunk(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    /* several small chunks and a big block: after reset one standard chunk is left */
    for (int i = 0; i < 100; i++)
        memset(lk_arena_alloc(&a, 200), 0xCD, 200);
    lk_arena_alloc(&a, 100000);
    lk_arena_reset(&a);
    assert_non_null(a.head);
    const void *kept = a.head;
    unsigned char *p = lk_arena_alloc(&a, 64);
    assert_ptr_equal(a.head, kept);
    for (int j = 0; j < 64; j++)
        assert_int_equal(p[j], 0); /* zeroed although the chunk was written before */
    /* reset of an arena that only ever held a big block keeps nothing */
    lk_arena big = LK_ARENA_INIT;
    lk_arena_alloc(&big, 100000);
    lk_arena_reset(&big);
    assert_null(big.head);
    lk_arena_reset(&big);
    lk_arena_free(&a);
    assert_null(a.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_keeps_one_chunk),
        cmocka_unit_test(allocations_are_zeroed_and_aligned),
        cmocka_unit_test(big_blocks_and_small_ones_coexist),
        cmocka_unit_test(strings),
        cmocka_unit_test(grow_keeps_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
