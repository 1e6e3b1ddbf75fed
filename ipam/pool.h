/* Address pools: which addresses of a prefix may be handed out, and the
 * next free one.
 *
 * A pool is a prefix, the ranges of it that are allocatable (by default its
 * usable addresses: for IPv4 without the network and broadcast addresses,
 * for IPv6 without the subnet-router anycast address) and exclusions (the
 * gateway, reserved addresses and ranges).  Together with the set of
 * addresses in use, it answers "next free address" and "may this address be
 * taken", with messages that say why not.  Pure logic: the database side
 * (ipam/leases.c) feeds it. */

#ifndef IPAM_POOL_H
#define IPAM_POOL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "policy/prefix.h"

struct ipam_range {
    struct in6_addr first, last;        /* Inclusive. */
};

struct ipam_pool {
    char *name;                         /* For messages: "VSID 5001". */
    struct policy_prefix prefix;
    struct ipam_range *ranges;          /* Allocatable, in order. */
    size_t n_ranges, allocated_ranges;
    struct ipam_range *excluded;
    size_t n_excluded, allocated_excluded;
};

/* The allocatable addresses of a pool, in order, numbered from 0: what lets
 * a caller look at a few addresses spread over a large pool.  Addresses
 * past UINT64_MAX (in a huge IPv6 pool) are out of reach. */
struct ipam_seq {
    struct ipam_range *segments;        /* Disjoint, in order. */
    size_t n_segments, allocated_segments;
    uint64_t size;                      /* Saturates at UINT64_MAX. */
};

/* A set of addresses in use. */
struct ipam_addr_set {
    struct hmap map;
};

void ipam_pool_init(struct ipam_pool *, const char *name,
                    const struct policy_prefix *);
void ipam_pool_destroy(struct ipam_pool *);
char *ipam_pool_build(struct ipam_pool *, const char *name,
                      const char *prefix, const char *gateway,
                      char *const *ranges, size_t n_ranges,
                      char *const *excluded, size_t n_excluded)
    OVS_WARN_UNUSED_RESULT;
char *ipam_pool_add_range(struct ipam_pool *, const char *text)
    OVS_WARN_UNUSED_RESULT;
char *ipam_pool_exclude(struct ipam_pool *, const char *text)
    OVS_WARN_UNUSED_RESULT;
char *ipam_pool_next_free(const struct ipam_pool *,
                          const struct ipam_addr_set *used,
                          struct in6_addr *) OVS_WARN_UNUSED_RESULT;
char *ipam_pool_check(const struct ipam_pool *,
                      const struct ipam_addr_set *used,
                      const struct in6_addr *) OVS_WARN_UNUSED_RESULT;

void ipam_seq_init(struct ipam_seq *, const struct ipam_pool *);
void ipam_seq_destroy(struct ipam_seq *);
struct in6_addr ipam_seq_nth(const struct ipam_seq *, uint64_t);

char *ipam_range_parse(const char *text, struct ipam_range *)
    OVS_WARN_UNUSED_RESULT;

void ipam_addr_set_init(struct ipam_addr_set *);
void ipam_addr_set_destroy(struct ipam_addr_set *);
void ipam_addr_set_add(struct ipam_addr_set *, const struct in6_addr *);
bool ipam_addr_set_contains(const struct ipam_addr_set *,
                            const struct in6_addr *);
size_t ipam_addr_set_count(const struct ipam_addr_set *);

#endif /* ipam/pool.h */
