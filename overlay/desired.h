/* The flows the switch should hold, and what each one is translated from.
 *
 * Every flow (overlay/flow.h: table, priority, match -> cookie, actions) is
 * wanted by one or more owners: a number the pipeline gives the lookup
 * record, subnet or route it translates, 0 for flows of no one object.
 * Removing an owner's flows and adding its new ones applies the change of
 * one record without touching the rest.
 *
 * Two owners may want the same key: the tunnel source of two records on
 * one PA, the delivery to a MAC that has an IPv4 and an IPv6 record.  The
 * flow stays while any of them wants it, and holds the least (cookie,
 * actions) wanted.  So a set does not depend on the order it was built
 * in: kept up to date change by change, it equals a full translation.
 *
 * An owner may be pinned: its flows depend on more than its own row (a
 * record bound to a local port, the next hop of a route), so only a full
 * translation may change them.
 *
 * The set remembers which keys changed since overlay_desired_clear_changed(),
 * so that installing a change costs what the change touches. */

#ifndef OVERLAY_DESIRED_H
#define OVERLAY_DESIRED_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

struct match;
struct ofpact;
struct overlay_flow_change;

struct overlay_desired {
    struct hmap flows;          /* struct overlay_flow, by key: the set. */
    struct hmap owners;         /* By number. */
    struct hmap changed;        /* Keys (struct overlay_flow, no actions). */
    bool all_changed;           /* 'changed' is not kept: compare all. */
};

void overlay_desired_init(struct overlay_desired *);
void overlay_desired_destroy(struct overlay_desired *);
void overlay_desired_clear(struct overlay_desired *);

void overlay_desired_add(struct overlay_desired *, uint64_t owner,
                         uint8_t table_id, uint16_t priority, uint64_t cookie,
                         const struct match *, const struct ofpact *,
                         size_t ofpacts_len);
void overlay_desired_remove_owner(struct overlay_desired *, uint64_t owner);
void overlay_desired_pin(struct overlay_desired *, uint64_t owner);
bool overlay_desired_is_pinned(const struct overlay_desired *,
                               uint64_t owner);

size_t overlay_desired_diff(const struct overlay_desired *,
                            const struct hmap *installed,
                            struct overlay_flow_change **);
void overlay_desired_clear_changed(struct overlay_desired *);

#endif /* overlay/desired.h */
