/* Finding a free address of a large pool by asking about a few of its
 * addresses at a time.
 *
 * The database answers "is this address taken?" for one address in one
 * lookup (policy/key.h), but reading every lease of a pool costs in
 * proportion to the leases.  A probe asks in rounds of at most
 * IPAM_PROBE_MAX candidates (numbers in the pool's sequence, ipam_seq):
 * first the pool's 32 first addresses and every power of two after them,
 * then, between the last taken and the first free address seen (or the
 * pool's end), evenly spaced ones, until it finds a free address whose
 * predecessor is taken.
 * In a pool filled from its start, as IPAM fills it, that is its lowest
 * free address, found in a handful of rounds among millions of leases.  An
 * address released further down than the 32 first is handed out again once
 * the probe finds no free address: the caller then reads the pool's leases
 * (as it does for a pool taken in no order).  Pure logic: the caller asks
 * the database. */

#ifndef IPAM_PROBE_H
#define IPAM_PROBE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPAM_PROBE_MAX 64

struct ipam_probe {
    uint64_t size;              /* Addresses in the pool. */
    bool started;
    bool any_taken;             /* Is 'taken' known? */
    uint64_t taken;             /* Highest number known taken below 'free'. */
    uint64_t free;              /* Lowest number known free, or 'size'. */
    uint64_t candidates[IPAM_PROBE_MAX];
    size_t n_candidates;
};

void ipam_probe_init(struct ipam_probe *, uint64_t size);
size_t ipam_probe_next(struct ipam_probe *, const uint64_t **candidates);
void ipam_probe_answer(struct ipam_probe *, const bool *taken);
bool ipam_probe_found(const struct ipam_probe *, uint64_t *);

#endif /* ipam/probe.h */
