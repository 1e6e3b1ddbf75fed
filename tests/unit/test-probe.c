/* Unit tests of finding a free address without reading every lease: the
 * numbering of a pool's addresses (ipam_seq), the probe's rounds
 * (ipam/probe.c) and the keyed UUIDs it asks the database about
 * (policy/key.c). */

#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipam/pool.h"
#include "ipam/probe.h"
#include "policy/key.h"
#include "policy/prefix.h"
#include "random.h"
#include "util.h"
#include "uuid.h"

static void
seq_of(struct ipam_seq *seq, const char *prefix, const char *gateway,
       const char *range, const char *excluded)
{
    struct ipam_pool pool;
    char *ranges[] = { CONST_CAST(char *, range) };
    char *ex[] = { CONST_CAST(char *, excluded) };
    char *error = ipam_pool_build(&pool, "VSID 5001", prefix, gateway,
                                  ranges, range ? 1 : 0, ex,
                                  excluded ? 1 : 0);
    assert_null(error);
    ipam_seq_init(seq, &pool);
    ipam_pool_destroy(&pool);
}

static void
assert_nth(const struct ipam_seq *seq, uint64_t k, const char *expected)
{
    struct in6_addr a = ipam_seq_nth(seq, k);
    char *s = policy_addr_to_string(&a);
    assert_string_equal(s, expected);
    free(s);
}

static void
test_seq_ipv4_without_gateway(void **state OVS_UNUSED)
{
    struct ipam_seq seq;
    seq_of(&seq, "192.168.20.0/29", "192.168.20.6", NULL, NULL);
    assert_int_equal(seq.size, 5);
    assert_nth(&seq, 0, "192.168.20.1");
    assert_nth(&seq, 4, "192.168.20.5");
    ipam_seq_destroy(&seq);
}

static void
test_seq_range_and_reserved_inside(void **state OVS_UNUSED)
{
    struct ipam_seq seq;
    seq_of(&seq, "10.0.0.0/16", "10.0.0.1", "10.0.1.0-10.0.1.255",
           "10.0.1.10-10.0.1.19");
    assert_int_equal(seq.size, 246);
    assert_nth(&seq, 9, "10.0.1.9");
    assert_nth(&seq, 10, "10.0.1.20");
    assert_nth(&seq, 245, "10.0.1.255");
    ipam_seq_destroy(&seq);
}

static void
test_seq_ipv6_skips_ipv4_block(void **state OVS_UNUSED)
{
    struct ipam_seq seq;
    seq_of(&seq, "::/64", NULL, NULL, NULL);
    /* ::1 to ::fffe:ffff:ffff, then past ::ffff:0:0/96. */
    assert_nth(&seq, 0, "::1");
    assert_nth(&seq, UINT64_C(0xfffeffffffff) - 1, "::fffe:ffff:ffff");
    assert_nth(&seq, UINT64_C(0xfffeffffffff), "::1:0:0:0");
    ipam_seq_destroy(&seq);

    seq_of(&seq, "fd00:10::/64", NULL, NULL, NULL);
    assert_true(seq.size == UINT64_MAX);
    assert_nth(&seq, 0, "fd00:10::1");
    ipam_seq_destroy(&seq);
}

/* Runs a probe of a pool of 'size' whose taken numbers 'is_taken' says;
 * returns the number found or -1, and the rounds it took in '*rounds'. */
static int64_t
run_probe(uint64_t size, bool (*is_taken)(uint64_t, const void *),
          const void *aux, int *rounds)
{
    struct ipam_probe p;
    const uint64_t *candidates;
    size_t n;
    ipam_probe_init(&p, size);
    *rounds = 0;
    while ((n = ipam_probe_next(&p, &candidates)) > 0) {
        bool taken[IPAM_PROBE_MAX];
        assert_true(n <= IPAM_PROBE_MAX);
        for (size_t i = 0; i < n; i++) {
            assert_true(candidates[i] < size);
            assert_true(!i || candidates[i - 1] < candidates[i]);
            taken[i] = is_taken(candidates[i], aux);
        }
        ipam_probe_answer(&p, taken);
        (*rounds)++;
    }
    uint64_t k;
    return ipam_probe_found(&p, &k) ? (int64_t) k : -1;
}

static bool
below(uint64_t k, const void *front)
{
    return k < *(const uint64_t *) front;
}

static void
test_probe_finds_the_front(void **state OVS_UNUSED)
{
    static const uint64_t sizes[] = { 1, 5, 31, 32, 33, 64, 1000, 1048574 };
    for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
        uint64_t size = sizes[s];
        uint64_t fronts[] = { 0, 1, size / 3, size / 2, size - 1, size };
        for (size_t f = 0; f < ARRAY_SIZE(fronts); f++) {
            int rounds;
            int64_t k = run_probe(size, below, &fronts[f], &rounds);
            assert_int_equal(k, fronts[f] < size ? (int64_t) fronts[f] : -1);
            assert_true(rounds <= 6);
        }
    }
}

static void
test_probe_brackets_a_front_at_once(void **state OVS_UNUSED)
{
    /* The first round's powers of two bracket a front near the start of a
     * huge pool (between 32 and 64 here), so the second round ends it. */
    uint64_t front = 40;
    int rounds;
    assert_int_equal(run_probe(UINT64_C(1) << 40, below, &front, &rounds),
                     40);
    assert_int_equal(rounds, 2);
}

static void
test_probe_random_fronts(void **state OVS_UNUSED)
{
    random_set_seed(7);
    for (int i = 0; i < 2000; i++) {
        uint64_t size = 1 + random_range(1 << 22);
        uint64_t front = random_range(size + 1);
        int rounds;
        int64_t k = run_probe(size, below, &front, &rounds);
        assert_int_equal(k, front < size ? (int64_t) front : -1);
        assert_true(rounds <= 6);
    }
}

/* A pool with a dense front and one hole. */
struct holed {
    uint64_t front, hole;
};

static bool
taken_but_hole(uint64_t k, const void *h_)
{
    const struct holed *h = h_;
    return k < h->front && k != h->hole;
}

static void
test_probe_reuses_a_low_hole(void **state OVS_UNUSED)
{
    int rounds;
    struct holed near = { .front = 100, .hole = 3 };
    assert_int_equal(run_probe(1000, taken_but_hole, &near, &rounds), 3);
    assert_int_equal(rounds, 1);

    /* Further down, the front comes first: the hole waits for the
     * caller's full read. */
    struct holed far = { .front = 100, .hole = 40 };
    assert_int_equal(run_probe(1000, taken_but_hole, &far, &rounds), 100);
}

static bool
taken_but_one(uint64_t k, const void *free_)
{
    return k != *(const uint64_t *) free_;
}

static void
test_probe_gives_up_rather_than_guess(void **state OVS_UNUSED)
{
    /* Only number 50 of 1000 is free and no round asks about it: the probe
     * ends without an address, and never names a taken one. */
    uint64_t free_one = 50;
    int rounds;
    assert_int_equal(run_probe(1000, taken_but_one, &free_one, &rounds), -1);
}

static void
test_key_is_rfc4122_v5(void **state OVS_UNUSED)
{
    struct in6_addr a;
    struct uuid u, expected;
    char *error = policy_addr_parse("172.16.0.1", &a);
    assert_null(error);
    policy_key_ca_lease(6001, &a, &u);
    /* Python: uuid.uuid5(uuid.UUID(POLICY_KEY_NAMESPACE),
     *                    "CA_Lease 6001 172.16.0.1") */
    assert_true(uuid_from_string(&expected,
                                 "a4d0bcc0-ec68-52c4-9a9d-726de573f99d"));
    assert_true(uuid_equals(&u, &expected));

    /* The canonical text is hashed, and the table is part of the name. */
    error = policy_addr_parse("fd00:10:0::1", &a);
    assert_null(error);
    policy_key_record(5001, &a, &u);
    assert_true(uuid_from_string(&expected,
                                 "8a57a3ca-7707-54c0-b7fc-500261604978"));
    assert_true(uuid_equals(&u, &expected));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_ipv4_without_gateway),
        cmocka_unit_test(test_seq_range_and_reserved_inside),
        cmocka_unit_test(test_seq_ipv6_skips_ipv4_block),
        cmocka_unit_test(test_probe_finds_the_front),
        cmocka_unit_test(test_probe_brackets_a_front_at_once),
        cmocka_unit_test(test_probe_random_fronts),
        cmocka_unit_test(test_probe_reuses_a_low_hole),
        cmocka_unit_test(test_probe_gives_up_rather_than_guess),
        cmocka_unit_test(test_key_is_rfc4122_v5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
