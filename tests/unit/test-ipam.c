/* Unit tests of the pure address-pool logic (ipam/pool.c): default usable
 * ranges, explicit ranges, exclusions, the next free address, the checks of
 * a static address, range parsing and the address set.
 *
 * Error messages are compared exactly: they reach the user through "vmroam
 * ipam", so a change to one should be a deliberate change to a test here
 * too. */

#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipam/pool.h"
#include "openvswitch/dynamic-string.h"
#include "policy/prefix.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                           */
/* ------------------------------------------------------------------ */

/* A pool and a set of used addresses. */
struct t {
    struct ipam_pool pool;
    struct ipam_addr_set used;
};

static void
expect_ok(char *error)
{
    if (error) {
        fail_msg("unexpected error: %s", error);
    }
}

/* Checks that 'error' is exactly 'msg', and frees it. */
static void
expect_error(char *error, const char *msg)
{
    assert_non_null(error);
    assert_string_equal(error, msg);
    free(error);
}

/* Checks that 'error' begins with 'head' and ends with 'tail', and frees
 * it: for a message whose middle a test does not pin. */
static void
expect_error_around(char *error, const char *head, const char *tail)
{
    assert_non_null(error);
    size_t n = strlen(error);
    if (strncmp(error, head, strlen(head)) || n < strlen(tail)
        || strcmp(error + n - strlen(tail), tail)) {
        fail_msg("got \"%s\", expected \"%s...%s\"", error, head, tail);
    }
    free(error);
}

static struct in6_addr
addr(const char *s)
{
    struct in6_addr a;
    expect_ok(policy_addr_parse(s, &a));
    return a;
}

static void
t_init(struct t *t, const char *name, const char *prefix)
{
    struct policy_prefix p;
    expect_ok(policy_prefix_parse(prefix, &p));
    ipam_pool_init(&t->pool, name, &p);
    ipam_addr_set_init(&t->used);
}

static void
t_destroy(struct t *t)
{
    ipam_pool_destroy(&t->pool);
    ipam_addr_set_destroy(&t->used);
}

static void
use(struct t *t, const char *s)
{
    struct in6_addr a = addr(s);
    ipam_addr_set_add(&t->used, &a);
}

static void
exclude(struct t *t, const char *text)
{
    expect_ok(ipam_pool_exclude(&t->pool, text));
}

static void
add_range(struct t *t, const char *text)
{
    expect_ok(ipam_pool_add_range(&t->pool, text));
}

/* Checks that the next free address is 'expected' (without taking it). */
static void
expect_next(const struct t *t, const char *expected)
{
    struct in6_addr a;
    expect_ok(ipam_pool_next_free(&t->pool, &t->used, &a));
    char *s = policy_addr_to_string(&a);
    assert_string_equal(s, expected);
    free(s);
}

/* Checks that the next free address is 'expected' and marks it used. */
static void
take_next(struct t *t, const char *expected)
{
    expect_next(t, expected);
    use(t, expected);
}

static void
expect_next_error(const struct t *t, const char *msg)
{
    struct in6_addr a;
    expect_error(ipam_pool_next_free(&t->pool, &t->used, &a), msg);
}

/* Checks that ipam_pool_check() of 's' says 'msg', or nothing if 'msg' is
 * NULL. */
static void
expect_verdict(const struct t *t, const char *s, const char *msg)
{
    struct in6_addr a = addr(s);
    char *error = ipam_pool_check(&t->pool, &t->used, &a);
    if (msg) {
        expect_error(error, msg);
    } else {
        expect_ok(error);
    }
}

/* Parses 'text' as a range and checks its bounds. */
static void
expect_range(const char *text, const char *first, const char *last)
{
    struct ipam_range r;
    expect_ok(ipam_range_parse(text, &r));
    char *f = policy_addr_to_string(&r.first);
    char *l = policy_addr_to_string(&r.last);
    assert_string_equal(f, first);
    assert_string_equal(l, last);
    free(f);
    free(l);
}

static void
expect_range_error(const char *text, const char *msg)
{
    struct ipam_range r;
    expect_error(ipam_range_parse(text, &r), msg);
}

/* ------------------------------------------------------------------ */
/* Default usable ranges.                                             */
/* ------------------------------------------------------------------ */

static void
test_default_ipv4_24(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");

    expect_next(&t, "192.168.10.1");
    expect_verdict(&t, "192.168.10.0",
                 "192.168.10.0 is not allocatable in VSID 5001 "
                 "(allocatable: 192.168.10.1-192.168.10.254)");
    expect_verdict(&t, "192.168.10.255",
                 "192.168.10.255 is not allocatable in VSID 5001 "
                 "(allocatable: 192.168.10.1-192.168.10.254)");
    expect_verdict(&t, "192.168.10.1", NULL);
    expect_verdict(&t, "192.168.10.254", NULL);

    /* Use everything but the last usable address: that is the next one,
     * not the broadcast address. */
    for (int i = 1; i <= 253; i++) {
        char s[32];
        snprintf(s, sizeof s, "192.168.10.%d", i);
        use(&t, s);
    }
    expect_next(&t, "192.168.10.254");
    use(&t, "192.168.10.254");
    expect_next_error(&t, "VSID 5001 (192.168.10.0/24) is exhausted: every "
                      "address of 192.168.10.1-192.168.10.254 is leased or "
                      "reserved (254 in use)");
    t_destroy(&t);
}

static void
test_default_ipv4_30(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "10.0.0.4/30");
    take_next(&t, "10.0.0.5");
    take_next(&t, "10.0.0.6");
    expect_next_error(&t, "VSID 5001 (10.0.0.4/30) is exhausted: every "
                      "address of 10.0.0.5-10.0.0.6 is leased or reserved "
                      "(2 in use)");
    expect_verdict(&t, "10.0.0.4", "10.0.0.4 is not allocatable in VSID 5001 "
                 "(allocatable: 10.0.0.5-10.0.0.6)");
    expect_verdict(&t, "10.0.0.7", "10.0.0.7 is not allocatable in VSID 5001 "
                 "(allocatable: 10.0.0.5-10.0.0.6)");
    t_destroy(&t);
}

static void
test_default_ipv4_31(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "10.0.0.0/31");
    expect_verdict(&t, "10.0.0.0", NULL);
    expect_verdict(&t, "10.0.0.1", NULL);
    take_next(&t, "10.0.0.0");
    take_next(&t, "10.0.0.1");
    expect_next_error(&t, "VSID 5001 (10.0.0.0/31) is exhausted: every "
                      "address of 10.0.0.0-10.0.0.1 is leased or reserved "
                      "(2 in use)");
    expect_verdict(&t, "10.0.0.2", "10.0.0.2 is outside VSID 5001 "
                 "(10.0.0.0/31)");
    t_destroy(&t);
}

static void
test_default_ipv4_32(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "10.0.0.7/32");
    expect_verdict(&t, "10.0.0.7", NULL);
    take_next(&t, "10.0.0.7");
    expect_verdict(&t, "10.0.0.7", "10.0.0.7 is already in use in VSID 5001 "
                 "(leased, or the address of a lookup record)");
    expect_next_error(&t, "VSID 5001 (10.0.0.7/32) is exhausted: every "
                      "address of 10.0.0.7 is leased or reserved "
                      "(1 in use)");
    expect_verdict(&t, "10.0.0.6", "10.0.0.6 is outside VSID 5001 "
                 "(10.0.0.7/32)");
    expect_verdict(&t, "10.0.0.8", "10.0.0.8 is outside VSID 5001 "
                 "(10.0.0.7/32)");
    t_destroy(&t);
}

static void
test_default_ipv4_whole_space(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 1", "0.0.0.0/0");
    expect_next(&t, "0.0.0.1");
    expect_verdict(&t, "255.255.255.254", NULL);
    expect_verdict(&t, "0.0.0.0", "0.0.0.0 is not allocatable in VSID 1 "
                 "(allocatable: 0.0.0.1-255.255.255.254)");
    expect_verdict(&t, "255.255.255.255", "255.255.255.255 is not allocatable "
                 "in VSID 1 (allocatable: 0.0.0.1-255.255.255.254)");
    t_destroy(&t);
}

static void
test_default_ipv6_64(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "2001:db8:0:1::/64");
    expect_next(&t, "2001:db8:0:1::1");
    expect_verdict(&t, "2001:db8:0:1::",
                 "2001:db8:0:1:: is not allocatable in VSID 6001 "
                 "(allocatable: 2001:db8:0:1::1-"
                 "2001:db8:0:1:ffff:ffff:ffff:ffff)");
    /* IPv6 has no broadcast address: the last one is usable. */
    expect_verdict(&t, "2001:db8:0:1:ffff:ffff:ffff:ffff", NULL);
    expect_verdict(&t, "2001:db8:0:2::1", "2001:db8:0:2::1 is outside "
                 "VSID 6001 (2001:db8:0:1::/64)");
    take_next(&t, "2001:db8:0:1::1");
    take_next(&t, "2001:db8:0:1::2");
    expect_next(&t, "2001:db8:0:1::3");
    t_destroy(&t);
}

static void
test_default_ipv6_126(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "2001:db8::/126");
    take_next(&t, "2001:db8::1");
    take_next(&t, "2001:db8::2");
    take_next(&t, "2001:db8::3");
    expect_next_error(&t, "VSID 6001 (2001:db8::/126) is exhausted: every "
                      "address of 2001:db8::1-2001:db8::3 is leased or "
                      "reserved (3 in use)");
    t_destroy(&t);
}

static void
test_default_ipv6_127(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "2001:db8::/127");
    expect_verdict(&t, "2001:db8::", NULL);
    take_next(&t, "2001:db8::");
    take_next(&t, "2001:db8::1");
    expect_next_error(&t, "VSID 6001 (2001:db8::/127) is exhausted: every "
                      "address of 2001:db8::-2001:db8::1 is leased or "
                      "reserved (2 in use)");
    expect_verdict(&t, "2001:db8::2", "2001:db8::2 is outside VSID 6001 "
                 "(2001:db8::/127)");
    t_destroy(&t);
}

static void
test_default_ipv6_128(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "2001:db8::5/128");
    take_next(&t, "2001:db8::5");
    expect_next_error(&t, "VSID 6001 (2001:db8::5/128) is exhausted: every "
                      "address of 2001:db8::5 is leased or reserved "
                      "(1 in use)");
    t_destroy(&t);
}

/* The top of the IPv6 space: the search must not wrap around. */
static void
test_default_ipv6_top(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126");
    take_next(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd");
    take_next(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    take_next(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    expect_next_error(&t, "VSID 6001 "
                      "(ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126) is "
                      "exhausted: every address of "
                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd-"
                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is leased or "
                      "reserved (3 in use)");
    t_destroy(&t);

    /* The same with the last address excluded rather than used. */
    t_init(&t, "VSID 6001", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126");
    exclude(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-"
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    take_next(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd");
    expect_next_error(&t, "VSID 6001 "
                      "(ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126) is "
                      "exhausted: every address of "
                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd-"
                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is leased or "
                      "reserved (1 in use)");
    t_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* next_free: used addresses, exclusions, explicit ranges.            */
/* ------------------------------------------------------------------ */

static void
test_next_free_skips_used(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    use(&t, "192.168.10.1");
    use(&t, "192.168.10.2");
    use(&t, "192.168.10.4");
    expect_next(&t, "192.168.10.3");
    /* next_free does not take the address itself. */
    expect_next(&t, "192.168.10.3");
    assert_int_equal(ipam_addr_set_count(&t.used), 3);
    use(&t, "192.168.10.3");
    expect_next(&t, "192.168.10.5");

    /* Used addresses outside the range do not matter. */
    use(&t, "192.168.10.0");
    use(&t, "192.168.10.255");
    use(&t, "10.0.0.5");
    use(&t, "2001:db8::5");
    expect_next(&t, "192.168.10.5");
    t_destroy(&t);
}

static void
test_next_free_skips_gateway(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    exclude(&t, "192.168.10.1");
    expect_next(&t, "192.168.10.2");
    expect_verdict(&t, "192.168.10.1", "192.168.10.1 is reserved in VSID 5001");
    use(&t, "192.168.10.2");
    expect_next(&t, "192.168.10.3");
    t_destroy(&t);

    /* A gateway at the end of the range. */
    t_init(&t, "VSID 5001", "10.0.0.8/29");
    exclude(&t, "10.0.0.14");
    for (int i = 9; i <= 13; i++) {
        char s[32];
        snprintf(s, sizeof s, "10.0.0.%d", i);
        take_next(&t, s);
    }
    expect_next_error(&t, "VSID 5001 (10.0.0.8/29) is exhausted: every "
                      "address of 10.0.0.9-10.0.0.14 is leased or reserved "
                      "(5 in use)");
    t_destroy(&t);
}

static void
test_next_free_skips_reserved_range(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    exclude(&t, "192.168.10.1-192.168.10.9");
    expect_next(&t, "192.168.10.10");
    expect_verdict(&t, "192.168.10.1", "192.168.10.1 is reserved in VSID 5001");
    expect_verdict(&t, "192.168.10.5", "192.168.10.5 is reserved in VSID 5001");
    expect_verdict(&t, "192.168.10.9", "192.168.10.9 is reserved in VSID 5001");
    expect_verdict(&t, "192.168.10.10", NULL);

    /* A used address right after the exclusion, then a second exclusion
     * that overlaps the next one. */
    use(&t, "192.168.10.10");
    exclude(&t, "192.168.10.11-192.168.10.20");
    exclude(&t, "192.168.10.15-192.168.10.30");
    exclude(&t, "192.168.10.31");
    expect_next(&t, "192.168.10.32");
    t_destroy(&t);
}

static void
test_next_free_skips_reserved_prefix(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    exclude(&t, "192.168.10.0/28");
    expect_next(&t, "192.168.10.16");
    expect_verdict(&t, "192.168.10.15",
                 "192.168.10.15 is reserved in VSID 5001");
    exclude(&t, "192.168.10.16/30");
    expect_next(&t, "192.168.10.20");
    t_destroy(&t);

    t_init(&t, "VSID 6001", "2001:db8::/64");
    exclude(&t, "2001:db8::/120");
    expect_next(&t, "2001:db8::100");
    expect_verdict(&t, "2001:db8::ff", "2001:db8::ff is reserved in VSID 6001");
    t_destroy(&t);
}

/* Exclusions and used addresses together, with the end of the range
 * reserved. */
static void
test_next_free_mixed_exclusions(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "10.1.0.0/28");
    exclude(&t, "10.1.0.1");                 /* Gateway. */
    exclude(&t, "10.1.0.4/30");              /* .4-.7 */
    exclude(&t, "10.1.0.12-10.1.0.14");
    use(&t, "10.1.0.3");
    take_next(&t, "10.1.0.2");
    take_next(&t, "10.1.0.8");
    take_next(&t, "10.1.0.9");
    take_next(&t, "10.1.0.10");
    take_next(&t, "10.1.0.11");
    expect_next_error(&t, "VSID 5001 (10.1.0.0/28) is exhausted: every "
                      "address of 10.1.0.1-10.1.0.14 is leased or reserved "
                      "(6 in use)");
    t_destroy(&t);
}

static void
test_explicit_range_replaces_default(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    add_range(&t, "192.168.10.100-192.168.10.110");
    expect_next(&t, "192.168.10.100");
    expect_verdict(&t, "192.168.10.1", "192.168.10.1 is not allocatable in "
                 "VSID 5001 (allocatable: 192.168.10.100-192.168.10.110)");
    expect_verdict(&t, "192.168.10.99", "192.168.10.99 is not allocatable in "
                 "VSID 5001 (allocatable: 192.168.10.100-192.168.10.110)");
    expect_verdict(&t, "192.168.10.111", "192.168.10.111 is not allocatable "
                 "in VSID 5001 (allocatable: 192.168.10.100-192.168.10.110)");
    expect_verdict(&t, "192.168.10.100", NULL);
    expect_verdict(&t, "192.168.10.110", NULL);

    for (int i = 100; i <= 110; i++) {
        char s[32];
        snprintf(s, sizeof s, "192.168.10.%d", i);
        take_next(&t, s);
    }
    expect_next_error(&t, "VSID 5001 (192.168.10.0/24) is exhausted: every "
                      "address of 192.168.10.100-192.168.10.110 is leased or "
                      "reserved (11 in use)");
    t_destroy(&t);
}

/* Ranges are searched in the order they were given, not in address
 * order. */
static void
test_multiple_ranges_in_order(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    add_range(&t, "192.168.10.200-192.168.10.201");
    add_range(&t, "192.168.10.10");
    add_range(&t, "192.168.10.50/31");
    assert_int_equal(t.pool.n_ranges, 3);

    expect_verdict(&t, "192.168.10.11", "192.168.10.11 is not allocatable in "
                 "VSID 5001 (allocatable: 192.168.10.200-192.168.10.201, "
                 "192.168.10.10, 192.168.10.50-192.168.10.51)");
    take_next(&t, "192.168.10.200");
    take_next(&t, "192.168.10.201");
    take_next(&t, "192.168.10.10");
    take_next(&t, "192.168.10.50");
    take_next(&t, "192.168.10.51");
    expect_next_error(&t, "VSID 5001 (192.168.10.0/24) is exhausted: every "
                      "address of 192.168.10.200-192.168.10.201, "
                      "192.168.10.10, 192.168.10.50-192.168.10.51 is leased "
                      "or reserved (5 in use)");
    t_destroy(&t);

    /* Exclusions apply inside explicit ranges; a range that is entirely
     * excluded or used is passed over. */
    t_init(&t, "VSID 6001", "2001:db8::/64");
    add_range(&t, "2001:db8::10-2001:db8::11");
    add_range(&t, "2001:db8::20-2001:db8::2f");
    exclude(&t, "2001:db8::10");
    use(&t, "2001:db8::11");
    exclude(&t, "2001:db8::20/126");
    expect_next(&t, "2001:db8::24");
    t_destroy(&t);
}

/* A /29 filled completely, without and with a gateway. */
static void
test_exhausted_29(void **state OVS_UNUSED)
{
    static const char *const hosts[] = {
        "10.0.0.9", "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13",
        "10.0.0.14",
    };
    struct t t;

    t_init(&t, "VSID 5001", "10.0.0.8/29");
    for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
        take_next(&t, hosts[i]);
    }
    assert_int_equal(ipam_addr_set_count(&t.used), 6);
    expect_next_error(&t, "VSID 5001 (10.0.0.8/29) is exhausted: every "
                      "address of 10.0.0.9-10.0.0.14 is leased or reserved "
                      "(6 in use)");
    /* Asking again gives the same answer. */
    expect_next_error(&t, "VSID 5001 (10.0.0.8/29) is exhausted: every "
                      "address of 10.0.0.9-10.0.0.14 is leased or reserved "
                      "(6 in use)");
    t_destroy(&t);

    t_init(&t, "provider subnet 10.0.0.8/29", "10.0.0.8/29");
    exclude(&t, "10.0.0.9");
    for (size_t i = 1; i < ARRAY_SIZE(hosts); i++) {
        take_next(&t, hosts[i]);
    }
    expect_next_error(&t, "provider subnet 10.0.0.8/29 (10.0.0.8/29) is "
                      "exhausted: every address of 10.0.0.9-10.0.0.14 is "
                      "leased or reserved (5 in use)");
    t_destroy(&t);

    /* Everything reserved, nothing used. */
    t_init(&t, "VSID 5001", "10.0.0.8/29");
    exclude(&t, "10.0.0.8/29");
    expect_next_error(&t, "VSID 5001 (10.0.0.8/29) is exhausted: every "
                      "address of 10.0.0.9-10.0.0.14 is leased or reserved "
                      "(0 in use)");
    t_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* ipam_pool_check.                                                   */
/* ------------------------------------------------------------------ */

static void
test_check_errors(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");
    add_range(&t, "192.168.10.10-192.168.10.99");
    exclude(&t, "192.168.10.20-192.168.10.29");
    use(&t, "192.168.10.30");

    expect_verdict(&t, "192.168.11.10", "192.168.11.10 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_verdict(&t, "10.0.0.1", "10.0.0.1 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_verdict(&t, "192.168.10.100", "192.168.10.100 is not allocatable "
                 "in VSID 5001 (allocatable: 192.168.10.10-192.168.10.99)");
    expect_verdict(&t, "192.168.10.25", "192.168.10.25 is reserved in "
                 "VSID 5001");
    expect_verdict(&t, "192.168.10.30", "192.168.10.30 is already in use in "
                 "VSID 5001 (leased, or the address of a lookup record)");
    expect_verdict(&t, "192.168.10.10", NULL);
    expect_verdict(&t, "192.168.10.31", NULL);
    expect_verdict(&t, "192.168.10.99", NULL);

    /* Precedence: outside, then not allocatable, then reserved, then in
     * use. */
    use(&t, "192.168.11.10");
    use(&t, "192.168.10.100");
    use(&t, "192.168.10.25");
    expect_verdict(&t, "192.168.11.10", "192.168.11.10 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_verdict(&t, "192.168.10.100", "192.168.10.100 is not allocatable "
                 "in VSID 5001 (allocatable: 192.168.10.10-192.168.10.99)");
    expect_verdict(&t, "192.168.10.25", "192.168.10.25 is reserved in "
                 "VSID 5001");
    exclude(&t, "192.168.10.200");
    expect_verdict(&t, "192.168.10.200", "192.168.10.200 is not allocatable "
                 "in VSID 5001 (allocatable: 192.168.10.10-192.168.10.99)");
    t_destroy(&t);

    t_init(&t, "VSID 6001", "2001:db8::/64");
    use(&t, "2001:db8::7");
    exclude(&t, "2001:db8::8");
    expect_verdict(&t, "2001:db8::7", "2001:db8::7 is already in use in "
                 "VSID 6001 (leased, or the address of a lookup record)");
    expect_verdict(&t, "2001:db8::8", "2001:db8::8 is reserved in VSID 6001");
    expect_verdict(&t, "2001:db9::1", "2001:db9::1 is outside VSID 6001 "
                 "(2001:db8::/64)");
    t_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* Parsing ranges; ranges and exclusions outside the prefix.          */
/* ------------------------------------------------------------------ */

static void
test_range_parse(void **state OVS_UNUSED)
{
    expect_range("10.0.0.1-10.0.0.5", "10.0.0.1", "10.0.0.5");
    expect_range("10.0.0.7-10.0.0.7", "10.0.0.7", "10.0.0.7");
    expect_range("10.0.0.7", "10.0.0.7", "10.0.0.7");
    expect_range("10.0.0.0/30", "10.0.0.0", "10.0.0.3");
    expect_range("10.0.0.9/32", "10.0.0.9", "10.0.0.9");
    expect_range("0.0.0.0/0", "0.0.0.0", "255.255.255.255");
    expect_range("2001:db8::1-2001:db8::ff", "2001:db8::1", "2001:db8::ff");
    expect_range("2001:db8::", "2001:db8::", "2001:db8::");
    expect_range("2001:db8::/126", "2001:db8::", "2001:db8::3");
    expect_range("2001:db8::/64", "2001:db8::",
                 "2001:db8::ffff:ffff:ffff:ffff");

    /* Bad text. */
    expect_range_error("10.0.0.1-10.0.0.x", "10.0.0.1-10.0.0.x is not a "
                       "range (expected ADDRESS-ADDRESS, ADDRESS or PREFIX)");
    expect_range_error("10.0.0.1-", "10.0.0.1- is not a range (expected "
                       "ADDRESS-ADDRESS, ADDRESS or PREFIX)");
    expect_range_error("-10.0.0.1", "-10.0.0.1 is not a range (expected "
                       "ADDRESS-ADDRESS, ADDRESS or PREFIX)");
    expect_range_error("10.0.0.1 - 10.0.0.5", "10.0.0.1 - 10.0.0.5 is not "
                       "a range (expected ADDRESS-ADDRESS, ADDRESS or "
                       "PREFIX)");
    expect_range_error("10.0.0.1-10.0.0.2-10.0.0.3", "10.0.0.1-10.0.0.2-"
                       "10.0.0.3 is not a range (expected ADDRESS-ADDRESS, "
                       "ADDRESS or PREFIX)");
    expect_range_error("bogus", "bogus is not an IPv4 or IPv6 address");
    expect_range_error("", " is not an IPv4 or IPv6 address");
    expect_range_error("::ffff:10.0.0.1", "::ffff:10.0.0.1: write IPv4 "
                       "addresses in dotted form");
    expect_range_error("10.0.0.0/33", "10.0.0.0/33: prefix length must be "
                       "0 to 32");
    expect_range_error("2001:db8::/129", "2001:db8::/129: prefix length "
                       "must be 0 to 128");
    expect_range_error("10.0.0.1/24", "10.0.0.1/24 has host bits set (did "
                       "you mean 10.0.0.0/24?)");
    expect_range_error("x/24", "x/24: bad address before the '/'");

    /* Reversed. */
    expect_range_error("10.0.0.5-10.0.0.1", "10.0.0.5-10.0.0.1: the range "
                       "must run from low to high within one IP version");
    expect_range_error("2001:db8::2-2001:db8::1", "2001:db8::2-2001:db8::1: "
                       "the range must run from low to high within one IP "
                       "version");

    /* Mixed families, in both orders (the first is ascending in the
     * common representation, so only the family check catches it). */
    expect_range_error("10.0.0.1-2001:db8::1", "10.0.0.1-2001:db8::1: the "
                       "range must run from low to high within one IP "
                       "version");
    expect_range_error("2001:db8::1-10.0.0.1", "2001:db8::1-10.0.0.1: the "
                       "range must run from low to high within one IP "
                       "version");
    expect_range_error("::1-10.0.0.1", "::1-10.0.0.1: the range must run "
                       "from low to high within one IP version");
}

static void
test_range_and_exclusion_outside(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 5001", "192.168.10.0/24");

    expect_error(ipam_pool_exclude(&t.pool, "10.0.0.1"),
                 "10.0.0.1 is outside VSID 5001 (192.168.10.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "192.168.10.250-192.168.11.5"),
                 "192.168.10.250-192.168.11.5 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "192.168.9.250-192.168.10.5"),
                 "192.168.9.250-192.168.10.5 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "192.168.0.0/16"),
                 "192.168.0.0/16 is outside VSID 5001 (192.168.10.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "2001:db8::1"),
                 "2001:db8::1 is outside VSID 5001 (192.168.10.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "192.168.10.9-192.168.10.1"),
                 "192.168.10.9-192.168.10.1: the range must run from low to "
                 "high within one IP version");

    expect_error(ipam_pool_add_range(&t.pool, "192.168.11.1-192.168.11.9"),
                 "192.168.11.1-192.168.11.9 is outside VSID 5001 "
                 "(192.168.10.0/24)");
    expect_error(ipam_pool_add_range(&t.pool, "192.168.10.0/23"),
                 "192.168.10.0/23 is outside VSID 5001 (192.168.10.0/24)");
    expect_error(ipam_pool_add_range(&t.pool, "nope"),
                 "nope is not an IPv4 or IPv6 address");
    expect_error(ipam_pool_add_range(&t.pool, "192.168.10.1-x"),
                 "192.168.10.1-x is not a range (expected ADDRESS-ADDRESS, "
                 "ADDRESS or PREFIX)");

    /* Refused ranges and exclusions leave the pool as it was. */
    assert_int_equal(t.pool.n_ranges, 0);
    assert_int_equal(t.pool.n_excluded, 0);
    expect_next(&t, "192.168.10.1");
    expect_verdict(&t, "192.168.10.254", NULL);

    /* The whole prefix, network and broadcast addresses included, may be
     * excluded. */
    exclude(&t, "192.168.10.0/24");
    expect_next_error(&t, "VSID 5001 (192.168.10.0/24) is exhausted: every "
                      "address of 192.168.10.1-192.168.10.254 is leased or "
                      "reserved (0 in use)");
    t_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* The address set.                                                   */
/* ------------------------------------------------------------------ */

static void
test_addr_set(void **state OVS_UNUSED)
{
    struct ipam_addr_set set;
    struct in6_addr a1 = addr("10.0.0.1");
    struct in6_addr a2 = addr("10.0.0.2");
    struct in6_addr v6 = addr("::a00:1");      /* Same low 32 bits as a1. */
    struct in6_addr v6b = addr("2001:db8::1");

    ipam_addr_set_init(&set);
    assert_int_equal(ipam_addr_set_count(&set), 0);
    assert_false(ipam_addr_set_contains(&set, &a1));

    ipam_addr_set_add(&set, &a1);
    assert_int_equal(ipam_addr_set_count(&set), 1);
    assert_true(ipam_addr_set_contains(&set, &a1));
    assert_false(ipam_addr_set_contains(&set, &a2));
    assert_false(ipam_addr_set_contains(&set, &v6));

    /* Duplicates count once. */
    ipam_addr_set_add(&set, &a1);
    ipam_addr_set_add(&set, &a1);
    assert_int_equal(ipam_addr_set_count(&set), 1);

    ipam_addr_set_add(&set, &a2);
    ipam_addr_set_add(&set, &v6);
    ipam_addr_set_add(&set, &v6b);
    ipam_addr_set_add(&set, &v6);
    assert_int_equal(ipam_addr_set_count(&set), 4);
    assert_true(ipam_addr_set_contains(&set, &a2));
    assert_true(ipam_addr_set_contains(&set, &v6));
    assert_true(ipam_addr_set_contains(&set, &v6b));

    /* Many addresses, each added twice. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 1000; i++) {
            struct in6_addr a = addr("2001:db8:1::");
            a.s6_addr[14] = i >> 8;
            a.s6_addr[15] = i & 0xff;
            ipam_addr_set_add(&set, &a);
        }
    }
    assert_int_equal(ipam_addr_set_count(&set), 1004);
    for (int i = 0; i < 1000; i++) {
        struct in6_addr a = addr("2001:db8:1::");
        a.s6_addr[14] = i >> 8;
        a.s6_addr[15] = i & 0xff;
        assert_true(ipam_addr_set_contains(&set, &a));
    }
    struct in6_addr absent = addr("2001:db8:1::3e8");      /* 1000 */
    assert_false(ipam_addr_set_contains(&set, &absent));
    ipam_addr_set_destroy(&set);

    /* Destroying an empty set. */
    ipam_addr_set_init(&set);
    ipam_addr_set_destroy(&set);
}

/* ------------------------------------------------------------------ */
/* IPv4 and IPv6 never mix.                                           */
/* ------------------------------------------------------------------ */

static void
test_families_never_mix(void **state OVS_UNUSED)
{
    struct t t;

    t_init(&t, "VSID 6001", "2001:db8::/64");
    expect_verdict(&t, "10.0.0.1", "10.0.0.1 is outside VSID 6001 "
                 "(2001:db8::/64)");
    expect_error(ipam_pool_exclude(&t.pool, "10.0.0.1"),
                 "10.0.0.1 is outside VSID 6001 (2001:db8::/64)");
    expect_error(ipam_pool_add_range(&t.pool, "10.0.0.1-10.0.0.5"),
                 "10.0.0.1-10.0.0.5 is outside VSID 6001 (2001:db8::/64)");
    expect_error(ipam_pool_add_range(&t.pool, "10.0.0.0/24"),
                 "10.0.0.0/24 is outside VSID 6001 (2001:db8::/64)");
    /* IPv4 addresses in use do not take IPv6 ones. */
    use(&t, "10.0.0.1");
    use(&t, "0.0.0.1");
    expect_next(&t, "2001:db8::1");
    t_destroy(&t);

    /* Even the IPv6 prefixes that cover everything: IPv4 addresses are not
     * in them. */
    t_init(&t, "VSID 6002", "::/0");
    expect_verdict(&t, "10.0.0.1", "10.0.0.1 is outside VSID 6002 (::/0)");
    expect_verdict(&t, "0.0.0.0", "0.0.0.0 is outside VSID 6002 (::/0)");
    expect_verdict(&t, "2001:db8::1", NULL);
    expect_error(ipam_pool_exclude(&t.pool, "10.0.0.0/8"),
                 "10.0.0.0/8 is outside VSID 6002 (::/0)");
    t_destroy(&t);

    t_init(&t, "VSID 6003", "::/96");
    expect_verdict(&t, "0.0.0.1", "0.0.0.1 is outside VSID 6003 (::/96)");
    expect_verdict(&t, "::1", NULL);
    t_destroy(&t);

    t_init(&t, "VSID 5001", "10.0.0.0/24");
    expect_verdict(&t, "2001:db8::1", "2001:db8::1 is outside VSID 5001 "
                 "(10.0.0.0/24)");
    /* glibc writes this IPv6 address in the old IPv4-compatible form. */
    expect_verdict(&t, "::a00:1", "::10.0.0.1 is outside VSID 5001 "
                 "(10.0.0.0/24)");
    expect_error(ipam_pool_exclude(&t.pool, "::a00:1"),
                 "::a00:1 is outside VSID 5001 (10.0.0.0/24)");
    use(&t, "::a00:1");
    use(&t, "2001:db8::1");
    expect_next(&t, "10.0.0.1");
    t_destroy(&t);

    t_init(&t, "VSID 1", "0.0.0.0/0");
    expect_verdict(&t, "2001:db8::1", "2001:db8::1 is outside VSID 1 "
                 "(0.0.0.0/0)");
    expect_verdict(&t, "::1", "::1 is outside VSID 1 (0.0.0.0/0)");
    t_destroy(&t);
}

/* ------------------------------------------------------------------ */
/* Property: next_free against a brute-force reference.               */
/* ------------------------------------------------------------------ */

#define N_HOSTS 64              /* A /26 or a /122. */

static uint32_t
rnd(uint32_t *seed)
{
    /* xorshift32: deterministic and the same on every platform. */
    uint32_t x = *seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *seed = x;
}

static uint32_t
rnd_below(uint32_t *seed, uint32_t n)
{
    return rnd(seed) % n;
}

/* The address at offset 'i' (< 65536) from the start of 'p'. */
static struct in6_addr
host(const struct policy_prefix *p, unsigned int i)
{
    struct in6_addr a = p->addr;
    unsigned int lo = a.s6_addr[15] + (i & 0xff);
    a.s6_addr[15] = lo;
    a.s6_addr[14] += (i >> 8) + (lo >> 8);
    return a;
}

static char *
host_string(const struct policy_prefix *p, unsigned int i)
{
    struct in6_addr a = host(p, i);
    return policy_addr_to_string(&a);
}

/* The brute-force reference model of a pool of N_HOSTS addresses. */
struct model {
    bool ipv4;
    bool allocatable[N_HOSTS];  /* In the default or explicit ranges. */
    bool excluded[N_HOSTS];
    bool used[N_HOSTS];
    unsigned int range_lo[4], range_hi[4];
    size_t n_ranges;            /* 0: the default range. */
};

/* Adds a random exclusion (an address, "A-B" or "A/LEN") to both 't' and
 * 'm'. */
static void
random_exclusion(uint32_t *seed, struct t *t, struct model *m)
{
    const struct policy_prefix *p = &t->pool.prefix;
    unsigned int lo, hi;
    char *text;

    switch (rnd_below(seed, 3)) {
    case 0:
        lo = hi = rnd_below(seed, N_HOSTS);
        text = host_string(p, lo);
        break;
    case 1: {
        lo = rnd_below(seed, N_HOSTS);
        hi = lo + rnd_below(seed, 8);
        if (hi >= N_HOSTS) {
            hi = N_HOSTS - 1;
        }
        char *a = host_string(p, lo);
        char *b = host_string(p, hi);
        text = xasprintf("%s-%s", a, b);
        free(a);
        free(b);
        break;
    }
    default: {
        unsigned int bits = rnd_below(seed, 4);     /* 1 to 8 addresses. */
        unsigned int size = 1u << bits;
        lo = rnd_below(seed, N_HOSTS / size) * size;
        hi = lo + size - 1;
        char *a = host_string(p, lo);
        text = xasprintf("%s/%u", a, (m->ipv4 ? 32 : 128) - bits);
        free(a);
        break;
    }
    }

    char *error = ipam_pool_exclude(&t->pool, text);
    if (error) {
        fail_msg("excluding %s: %s", text, error);
    }
    free(text);
    for (unsigned int i = lo; i <= hi; i++) {
        m->excluded[i] = true;
    }
}

static void
random_range(uint32_t *seed, struct t *t, struct model *m)
{
    const struct policy_prefix *p = &t->pool.prefix;
    unsigned int lo = rnd_below(seed, N_HOSTS);
    unsigned int hi = lo + rnd_below(seed, 24);
    if (hi >= N_HOSTS) {
        hi = N_HOSTS - 1;
    }
    char *a = host_string(p, lo);
    char *b = host_string(p, hi);
    char *text = xasprintf("%s-%s", a, b);
    char *error = ipam_pool_add_range(&t->pool, text);
    if (error) {
        fail_msg("adding range %s: %s", text, error);
    }
    free(a);
    free(b);
    free(text);

    m->range_lo[m->n_ranges] = lo;
    m->range_hi[m->n_ranges] = hi;
    m->n_ranges++;
    for (unsigned int i = lo; i <= hi; i++) {
        m->allocatable[i] = true;
    }
}

/* The reference answer: the first address, in range order, that is neither
 * excluded nor used; -1 if none. */
static int
model_next_free(const struct model *m)
{
    for (size_t r = 0; r < m->n_ranges; r++) {
        for (unsigned int i = m->range_lo[r]; i <= m->range_hi[r]; i++) {
            if (!m->excluded[i] && !m->used[i]) {
                return i;
            }
        }
    }
    return -1;
}

/* The allocatable ranges as the pool's messages write them. */
static char *
model_ranges(const struct model *m, const struct policy_prefix *p)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t r = 0; r < m->n_ranges; r++) {
        if (r) {
            ds_put_cstr(&s, ", ");
        }
        char *a = host_string(p, m->range_lo[r]);
        ds_put_cstr(&s, a);
        free(a);
        if (m->range_hi[r] != m->range_lo[r]) {
            char *b = host_string(p, m->range_hi[r]);
            ds_put_format(&s, "-%s", b);
            free(b);
        }
    }
    return ds_steal_cstr(&s);
}

/* Checks ipam_pool_check() on every address of the prefix and a few around
 * it against the model. */
static void
check_all(const struct t *t, const struct model *m)
{
    const struct policy_prefix *p = &t->pool.prefix;
    char *ranges = model_ranges(m, p);
    char *prefix = policy_prefix_to_string(p);

    for (unsigned int i = 0; i < N_HOSTS; i++) {
        struct in6_addr a = host(p, i);
        char *s = policy_addr_to_string(&a);
        char *expected = (!m->allocatable[i]
                          ? xasprintf("%s is not allocatable in %s "
                                      "(allocatable: %s)",
                                      s, t->pool.name, ranges)
                          : m->excluded[i]
                          ? xasprintf("%s is reserved in %s",
                                      s, t->pool.name)
                          : m->used[i]
                          ? xasprintf("%s is already in use in %s (leased, "
                                      "or the address of a lookup record)",
                                      s, t->pool.name)
                          : NULL);
        char *error = ipam_pool_check(&t->pool, &t->used, &a);
        if (expected) {
            expect_error(error, expected);
        } else if (error) {
            fail_msg("%s: unexpected error: %s", s, error);
        }
        free(expected);
        free(s);
    }

    /* The addresses just after the prefix are outside it. */
    for (unsigned int i = N_HOSTS; i < N_HOSTS + 3; i++) {
        struct in6_addr a = host(p, i);
        char *s = policy_addr_to_string(&a);
        char *expected = xasprintf("%s is outside %s (%s)",
                                   s, t->pool.name, prefix);
        expect_error(ipam_pool_check(&t->pool, &t->used, &a), expected);
        free(expected);
        free(s);
    }
    free(prefix);
    free(ranges);
}

/* One round of the property test: a pool of N_HOSTS addresses with random
 * exclusions, used addresses and (if 'explicit_ranges') allocatable ranges,
 * emptied by next_free one address at a time. */
static void
property_round(uint32_t *seed, bool ipv4, bool explicit_ranges)
{
    struct model m;
    struct t t;

    memset(&m, 0, sizeof m);
    m.ipv4 = ipv4;
    t_init(&t, "VSID 7000", ipv4 ? "10.20.30.64/26" : "2001:db8:7::40/122");
    const struct policy_prefix *p = &t.pool.prefix;

    if (explicit_ranges) {
        size_t n = 1 + rnd_below(seed, 3);
        for (size_t i = 0; i < n; i++) {
            random_range(seed, &t, &m);
        }
    } else {
        /* The default range: IPv4 without the network and broadcast
         * addresses, IPv6 without the subnet-router anycast address. */
        m.range_lo[0] = 1;
        m.range_hi[0] = ipv4 ? N_HOSTS - 2 : N_HOSTS - 1;
        m.n_ranges = 1;
        for (unsigned int i = m.range_lo[0]; i <= m.range_hi[0]; i++) {
            m.allocatable[i] = true;
        }
    }

    size_t n_excl = rnd_below(seed, 5);
    for (size_t i = 0; i < n_excl; i++) {
        random_exclusion(seed, &t, &m);
    }

    /* Used addresses: anywhere in the prefix, sometimes excluded ones, and
     * a few outside it (which must not matter). */
    size_t n_used = rnd_below(seed, N_HOSTS / 2);
    for (size_t i = 0; i < n_used; i++) {
        unsigned int h = rnd_below(seed, N_HOSTS);
        struct in6_addr a = host(p, h);
        ipam_addr_set_add(&t.used, &a);
        m.used[h] = true;
    }
    if (rnd_below(seed, 2)) {
        struct in6_addr a = host(p, N_HOSTS + rnd_below(seed, 100));
        ipam_addr_set_add(&t.used, &a);
        use(&t, ipv4 ? "2001:db8:7::41" : "10.20.30.65");
    }

    check_all(&t, &m);

    /* Take next_free's answer until it runs out; each one must be the
     * reference's. */
    size_t n_taken = 0;
    for (;;) {
        int expected = model_next_free(&m);
        struct in6_addr a;
        char *error = ipam_pool_next_free(&t.pool, &t.used, &a);
        if (expected < 0) {
            char *ranges = model_ranges(&m, p);
            char *prefix = policy_prefix_to_string(p);
            /* The exact count is pinned by the tests above; here only
             * the rest of the message. */
            char *msg = xasprintf("VSID 7000 (%s) is exhausted: every "
                                  "address of %s is leased or reserved (",
                                  prefix, ranges);
            expect_error_around(error, msg, " in use)");
            free(msg);
            free(prefix);
            free(ranges);
            break;
        }
        if (error) {
            char *e = host_string(p, expected);
            fail_msg("expected %s, got error: %s", e, error);
        }
        struct in6_addr want = host(p, expected);
        if (policy_addr_cmp(&a, &want)) {
            char *got = policy_addr_to_string(&a);
            char *e = policy_addr_to_string(&want);
            fail_msg("next_free returned %s, expected %s", got, e);
        }
        expect_ok(ipam_pool_check(&t.pool, &t.used, &a));
        ipam_addr_set_add(&t.used, &a);
        m.used[expected] = true;
        n_taken++;
        assert_true(n_taken <= N_HOSTS);
    }

    check_all(&t, &m);
    t_destroy(&t);
}

static void
test_property_default_ipv4_26(void **state OVS_UNUSED)
{
    uint32_t seed = 0x1a2b3c4d;
    for (int i = 0; i < 300; i++) {
        property_round(&seed, true, false);
    }
}

static void
test_property_default_ipv6_122(void **state OVS_UNUSED)
{
    uint32_t seed = 0x5eed1234;
    for (int i = 0; i < 300; i++) {
        property_round(&seed, false, false);
    }
}

static void
test_property_explicit_ranges(void **state OVS_UNUSED)
{
    uint32_t seed = 0xc0ffee11;
    for (int i = 0; i < 300; i++) {
        property_round(&seed, i % 2, true);
    }
}

/* ------------------------------------------------------------------ */
/* Regressions.                                                       */
/* ------------------------------------------------------------------ */

/* An IPv6 prefix whose first 80 bits are zero covers the block that the
 * common representation uses for IPv4 (::ffff:0:0/96).  next_free must not
 * hand out an IPv4 address from an IPv6 pool, and must agree with
 * ipam_pool_check(), which calls such an address outside the pool. */
static void
test_ipv6_pool_never_gives_ipv4(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "VSID 6001", "::/80");
    exclude(&t, "::1-::fffe:ffff:ffff");

    /* What is left, ::ffff:0:0/96, is IPv4's: the pool is exhausted. */
    struct in6_addr a;
    char *error = ipam_pool_next_free(&t.pool, &t.used, &a);
    if (!error) {
        char *s = policy_addr_to_string(&a);
        char *check = ipam_pool_check(&t.pool, &t.used, &a);
        fail_msg("next_free gave %s from an IPv6 pool (check says: %s)",
                 s, check ? check : "ok");
    }
    expect_error_around(error, "VSID 6001 (::/80) is exhausted: every address "
                        "of ::1-", " is leased or reserved (0 in use)");
    t_destroy(&t);
}

/* The "in use" count of the exhaustion message counts only addresses of the
 * pool, although ipam/leases.c puts the PA leases of every provider subnet
 * into one set. */
static void
test_exhausted_count_only_inside(void **state OVS_UNUSED)
{
    struct t t;
    t_init(&t, "provider subnet 10.0.0.8/29", "10.0.0.8/29");
    use(&t, "10.0.1.1");
    use(&t, "10.0.1.2");
    use(&t, "2001:db8::1");
    for (int i = 9; i <= 14; i++) {
        char s[32];
        snprintf(s, sizeof s, "10.0.0.%d", i);
        take_next(&t, s);
    }
    expect_next_error(&t, "provider subnet 10.0.0.8/29 (10.0.0.8/29) is "
                      "exhausted: every address of 10.0.0.9-10.0.0.14 is "
                      "leased or reserved (6 in use)");
    t_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        /* Default ranges. */
        cmocka_unit_test(test_default_ipv4_24),
        cmocka_unit_test(test_default_ipv4_30),
        cmocka_unit_test(test_default_ipv4_31),
        cmocka_unit_test(test_default_ipv4_32),
        cmocka_unit_test(test_default_ipv4_whole_space),
        cmocka_unit_test(test_default_ipv6_64),
        cmocka_unit_test(test_default_ipv6_126),
        cmocka_unit_test(test_default_ipv6_127),
        cmocka_unit_test(test_default_ipv6_128),
        cmocka_unit_test(test_default_ipv6_top),

        /* next_free. */
        cmocka_unit_test(test_next_free_skips_used),
        cmocka_unit_test(test_next_free_skips_gateway),
        cmocka_unit_test(test_next_free_skips_reserved_range),
        cmocka_unit_test(test_next_free_skips_reserved_prefix),
        cmocka_unit_test(test_next_free_mixed_exclusions),
        cmocka_unit_test(test_explicit_range_replaces_default),
        cmocka_unit_test(test_multiple_ranges_in_order),
        cmocka_unit_test(test_exhausted_29),

        /* Checks, parsing, the set, families. */
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_range_and_exclusion_outside),
        cmocka_unit_test(test_addr_set),
        cmocka_unit_test(test_families_never_mix),

        /* Properties. */
        cmocka_unit_test(test_property_default_ipv4_26),
        cmocka_unit_test(test_property_default_ipv6_122),
        cmocka_unit_test(test_property_explicit_ranges),

        /* Known bugs. */
        cmocka_unit_test(test_ipv6_pool_never_gives_ipv4),
        cmocka_unit_test(test_exhausted_count_only_inside),
    };
    return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
