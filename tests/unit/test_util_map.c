/*
 * test_util_map — the open-addressing map (util/map.h): insert, get, replace and
 * delete with string and integer keys, growth to 100,000 keys, random operations
 * checked against a plain array, and iteration, including removal of the entry
 * just returned (every entry seen exactly once, whatever the clusters look like).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a deterministic generator so that failures reproduce */
static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* a non-NULL value that encodes i */
static void *val(size_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

static size_t unval(void *v)
{
    return (size_t)(uintptr_t)v - 1;
}

static void str_basics(void **state)
{
    (void)state;
    lk_map *m = lk_map_new_str(0);
    assert_int_equal(lk_map_size(m), 0);
    assert_null(lk_map_get_str(m, "a"));
    assert_null(lk_map_del_str(m, "a"));

    assert_null(lk_map_put_str(m, "a", val(1)));
    assert_null(lk_map_put_str(m, "", val(2)));            /* the empty string is a key */
    assert_null(lk_map_put_str(m, "ab", val(3)));
    assert_int_equal(lk_map_size(m), 3);
    assert_ptr_equal(lk_map_get_str(m, "a"), val(1));
    assert_ptr_equal(lk_map_get_str(m, ""), val(2));
    assert_ptr_equal(lk_map_get_str(m, "ab"), val(3));
    assert_null(lk_map_get_str(m, "A"));                   /* exact comparison */
    assert_null(lk_map_get_str(m, "abc"));

    assert_ptr_equal(lk_map_put_str(m, "a", val(10)), val(1)); /* replace returns the old value */
    assert_int_equal(lk_map_size(m), 3);
    assert_ptr_equal(lk_map_get_str(m, "a"), val(10));

    assert_ptr_equal(lk_map_del_str(m, "a"), val(10));
    assert_null(lk_map_del_str(m, "a"));
    assert_null(lk_map_get_str(m, "a"));
    assert_int_equal(lk_map_size(m), 2);
    lk_map_free(m);
    lk_map_free(NULL);
}

static void str_replace_keeps_the_new_key(void **state)
{
    (void)state;
    lk_map *m = lk_map_new_str(4);
    char *k1 = strdup("token-hash");
    char *k2 = strdup("token-hash");
    lk_map_put_str(m, k1, val(1));
    assert_ptr_equal(lk_map_put_str(m, k2, val(2)), val(1));
    memset(k1, 'x', strlen(k1));                           /* the old key may now go away */
    free(k1);
    assert_ptr_equal(lk_map_get_str(m, "token-hash"), val(2));
    const char *sk = NULL;
    size_t pos = 0;
    assert_true(lk_map_next(m, &pos, &sk, NULL, NULL));
    assert_ptr_equal(sk, k2);
    lk_map_free(m);
    free(k2);
}

static void int_basics(void **state)
{
    (void)state;
    lk_map *m = lk_map_new_int(1);
    int64_t keys[] = {0, 1, -1, INT64_MIN, INT64_MAX, 42, 1LL << 40};
    size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++)
        assert_null(lk_map_put_int(m, keys[i], val(i)));
    assert_int_equal(lk_map_size(m), n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(lk_map_get_int(m, keys[i]), val(i));
    assert_null(lk_map_get_int(m, 2));
    assert_ptr_equal(lk_map_put_int(m, -1, val(99)), val(2));
    assert_ptr_equal(lk_map_del_int(m, INT64_MIN), val(3));
    assert_null(lk_map_get_int(m, INT64_MIN));
    assert_ptr_equal(lk_map_get_int(m, -1), val(99));
    assert_int_equal(lk_map_size(m), n - 1);

    int64_t ik = 7;
    const char *sk = "x";
    void *v = NULL;
    size_t pos = 0, seen = 0;
    while (lk_map_next(m, &pos, &sk, &ik, &v)) {
        assert_null(sk);                                   /* integer maps report no string key */
        assert_ptr_equal(lk_map_get_int(m, ik), v);
        seen++;
    }
    assert_int_equal(seen, n - 1);
    lk_map_free(m);
}

static void empty_map_iterates_nothing(void **state)
{
    (void)state;
    lk_map *m = lk_map_new_int(0);
    size_t pos = 0;
    assert_false(lk_map_next(m, &pos, NULL, NULL, NULL));
    assert_false(lk_map_next(m, &pos, NULL, NULL, NULL));
    lk_map_put_int(m, 5, val(5));
    lk_map_del_int(m, 5);
    pos = 0;
    assert_false(lk_map_next(m, &pos, NULL, NULL, NULL));
    lk_map_free(m);
}

#define BIG 100000

static void str_100k_keys(void **state)
{
    (void)state;
    char (*keys)[24] = malloc(BIG * sizeof *keys);
    for (size_t i = 0; i < BIG; i++)
        snprintf(keys[i], sizeof keys[i], "%016llx", (unsigned long long)(i * 2654435761u));
    lk_map *m = lk_map_new_str(0);                         /* grows all the way */
    for (size_t i = 0; i < BIG; i++)
        assert_null(lk_map_put_str(m, keys[i], val(i)));
    assert_int_equal(lk_map_size(m), BIG);
    for (size_t i = 0; i < BIG; i++)
        assert_ptr_equal(lk_map_get_str(m, keys[i]), val(i));
    assert_null(lk_map_get_str(m, "not-a-key"));
    for (size_t i = 0; i < BIG; i += 2)
        assert_ptr_equal(lk_map_del_str(m, keys[i]), val(i));
    assert_int_equal(lk_map_size(m), BIG / 2);
    for (size_t i = 0; i < BIG; i++) {
        if (i % 2)
            assert_ptr_equal(lk_map_get_str(m, keys[i]), val(i));
        else
            assert_null(lk_map_get_str(m, keys[i]));
    }
    lk_map_free(m);
    free(keys);
}

/* random put/get/del on integer keys, checked after every step against an array */
static void random_ops_match_a_reference(void **state)
{
    (void)state;
    const size_t nkeys = BIG;
    void **ref = calloc(nkeys, sizeof *ref);
    size_t ref_size = 0;
    lk_map *m = lk_map_new_int(16);
    for (size_t op = 0; op < 600000; op++) {
        size_t k = (size_t)(rng() % nkeys);
        int64_t key = (int64_t)k * 1000003 - 50000000;     /* negative and positive keys */
        switch (rng() % 4) {
        case 0:
        case 1: {
            void *v = val(op);
            void *prev = lk_map_put_int(m, key, v);
            assert_ptr_equal(prev, ref[k]);
            if (!ref[k])
                ref_size++;
            ref[k] = v;
            break;
        }
        case 2:
            assert_ptr_equal(lk_map_get_int(m, key), ref[k]);
            break;
        default:
            assert_ptr_equal(lk_map_del_int(m, key), ref[k]);
            if (ref[k])
                ref_size--;
            ref[k] = NULL;
            break;
        }
        assert_int_equal(lk_map_size(m), ref_size);
    }
    for (size_t k = 0; k < nkeys; k++)
        assert_ptr_equal(lk_map_get_int(m, (int64_t)k * 1000003 - 50000000), ref[k]);

    /* iteration yields exactly the reference's entries */
    unsigned char *seen = calloc(nkeys, 1);
    size_t pos = 0, count = 0;
    int64_t ik;
    void *v;
    while (lk_map_next(m, &pos, NULL, &ik, &v)) {
        size_t k = (size_t)((ik + 50000000) / 1000003);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        assert_ptr_equal(ref[k], v);
        count++;
    }
    assert_int_equal(count, ref_size);
    free(seen);
    free(ref);
    lk_map_free(m);
}

/*
 * Removes the entry just returned for some entries (or all), at many sizes, with
 * consecutive and random keys (so clusters fall everywhere, some wrapping): every
 * entry must be returned exactly once and the survivors must all still be found.
 */
static void check_delete_while_iterating(size_t n, unsigned del_mod, bool random_keys)
{
    lk_map *m = lk_map_new_int(0);
    int64_t *keys = malloc(n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        /* random keys land in different clusters each round (at up to 70 % load some
         * clusters wrap around the end of the table); consecutive ones are the plain case */
        keys[i] = random_keys ? (int64_t)(rng() >> 1) : (int64_t)i;
        if (lk_map_get_int(m, keys[i])) {
            keys[i] = -(int64_t)i - 1;                     /* keep them distinct */
        }
        lk_map_put_int(m, keys[i], val(i));
    }
    size_t size = lk_map_size(m);
    unsigned char *seen = calloc(n, 1);
    size_t pos = 0, visited = 0, removed = 0;
    int64_t ik;
    void *v;
    while (lk_map_next(m, &pos, NULL, &ik, &v)) {
        size_t i = unval(v);
        assert_true(i < n);
        assert_int_equal(keys[i], ik);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        visited++;
        if (del_mod == 1 || i % del_mod == 0) {
            assert_ptr_equal(lk_map_del_int(m, ik), v);
            removed++;
        }
    }
    assert_int_equal(visited, size);
    assert_int_equal(lk_map_size(m), size - removed);
    for (size_t i = 0; i < n; i++) {
        bool gone = del_mod == 1 || i % del_mod == 0;
        if (gone)
            assert_null(lk_map_get_int(m, keys[i]));
        else
            assert_ptr_equal(lk_map_get_int(m, keys[i]), val(i));
    }
    free(seen);
    free(keys);
    lk_map_free(m);
}

static void delete_while_iterating(void **state)
{
    (void)state;
    size_t sizes[] = {1, 2, 5, 6, 11, 12, 45, 89, 179, 700, 1433, 5000, BIG};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (unsigned mod = 1; mod <= 3; mod++) {
            check_delete_while_iterating(sizes[s], mod, false);
            for (int r = 0; r < (sizes[s] < 1000 ? 20 : 1); r++)
                check_delete_while_iterating(sizes[s], mod, true);
        }
    }
}

/* the same with string keys, emptying the map during the walk */
static void delete_all_while_iterating_str(void **state)
{
    (void)state;
    enum { N = 3000 };
    static char keys[N][16];
    lk_map *m = lk_map_new_str(0);
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        lk_map_put_str(m, keys[i], val(i));
    }
    size_t pos = 0, visited = 0;
    const char *sk;
    void *v;
    while (lk_map_next(m, &pos, &sk, NULL, &v)) {
        assert_string_equal(sk, keys[unval(v)]);
        assert_ptr_equal(lk_map_del_str(m, sk), v);
        visited++;
    }
    assert_int_equal(visited, N);
    assert_int_equal(lk_map_size(m), 0);
    /* usable after being emptied */
    lk_map_put_str(m, keys[7], val(7));
    assert_ptr_equal(lk_map_get_str(m, "k7"), val(7));
    lk_map_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(str_basics),
        cmocka_unit_test(str_replace_keeps_the_new_key),
        cmocka_unit_test(int_basics),
        cmocka_unit_test(empty_map_iterates_nothing),
        cmocka_unit_test(str_100k_keys),
        cmocka_unit_test(random_ops_match_a_reference),
        cmocka_unit_test(delete_while_iterating),
        cmocka_unit_test(delete_all_while_iterating_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
