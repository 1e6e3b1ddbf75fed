/* The source's hold of a migrating VM's packets, and its count.
 *
 * From just before the guest's last pause here until it runs on one side
 * or the other, the switch sends every packet for the VM's NICs to the
 * destination, whose port holds them until the VM runs there
 * (overlay_pipeline_hold()).  A hold remembers the NICs it began with, so
 * that a full translation puts it back even once the VM's lookup records
 * have left this host's replica.
 *
 * The hold's packets go through flows whose cookie has the switch count
 * them.  When the hold ends, those flows stay, unused, for
 * OVERLAY_HOLD_SETTLE_MS: the switch credits a flow with what its datapath
 * forwarded only when its revalidators pass over the datapath's flows, at
 * once when the flow table changes (the hold's end) and at least every
 * 500 ms.  Then they go, and the switch reports what each carried:
 * overlay_holds_take_count() returns the total, how many packets the hold
 * sent to the destination. */

#ifndef OVERLAY_HOLD_H
#define OVERLAY_HOLD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/compiler.h"

struct overlay_desired;
struct overlay_holds;
struct overlay_ofctrl;
struct overlay_redirect;

#define OVERLAY_HOLD_SETTLE_MS 500

/* How long the switch then has to report what the counting flows carried:
 * a switch that restarted meanwhile never reports the flows it lost. */
#define OVERLAY_HOLD_REPORT_MS 2000

struct overlay_holds *overlay_holds_create(void);
void overlay_holds_destroy(struct overlay_holds *);

void overlay_holds_start(struct overlay_holds *, struct overlay_desired *,
                         int64_t gre_ofport, const char *vm,
                         const struct overlay_redirect *nics, size_t n);
void overlay_holds_end(struct overlay_holds *, struct overlay_desired *,
                       const char *vm, long long int now);
void overlay_holds_reapply(const struct overlay_holds *,
                           struct overlay_desired *, int64_t gre_ofport);
bool overlay_holds_settle(struct overlay_holds *, struct overlay_desired *,
                          long long int now, uint64_t req);
char *overlay_holds_take_count(struct overlay_holds *,
                               struct overlay_ofctrl *, long long int now,
                               uint64_t *packets, bool *complete)
    OVS_WARN_UNUSED_RESULT;
long long int overlay_holds_next_wake(const struct overlay_holds *);

#endif /* overlay/hold.h */
