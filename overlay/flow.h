/* OpenFlow flows as vmroam computes and installs them.
 *
 * A flow is identified by (table, priority, match), as OpenFlow identifies
 * it for strict modify and delete; its actions and cookie are its value.
 * The match and the actions are kept as the switch's library keeps them
 * (a minimatch, a series of ofpacts), built directly by the pipeline, so
 * that sending a flow costs its encoding alone.  The sets holding a flow
 * share one copy of its match (overlay_match_*()), and flows share equal
 * masks and actions (overlay_shared_*()).  None of it is thread-safe: the
 * agent's main thread alone computes and installs flows.
 *
 * A flow set is an hmap of flows; overlay_flows_diff() lists what turns one
 * set into another.  overlay/desired.h keeps the set the switch should
 * hold. */

#ifndef OVERLAY_FLOW_H
#define OVERLAY_FLOW_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/match.h"

struct ds;
struct ofpact;
struct ofputil_flow_mod;

/* Bytes shared by content: a match's mask, a flow's actions.  Equal
 * contents are one copy (overlay_shared_get()): a few dozen masks serve
 * hundreds of thousands of flows, the actions of a tunnel to one PA serve
 * every record behind it, and equal contents are equal pointers. */
struct overlay_shared {
    struct hmap_node node;      /* In the table of shared contents. */
    unsigned int refcnt;
    uint32_t size;              /* In bytes. */
    uint64_t data[];
};

const struct overlay_shared *overlay_shared_get(const void *, size_t size);
const struct overlay_shared *overlay_shared_ref(const struct overlay_shared *);
void overlay_shared_unref(const struct overlay_shared *);
int overlay_shared_compare(const struct overlay_shared *,
                           const struct overlay_shared *);

/* A match, shared by the sets holding its flow. */
struct overlay_match {
    unsigned int refcnt;
    uint32_t hash;
    struct minimatch mm;        /* 'mm.flow' is 'flow', 'mm.mask' shared. */
    uint64_t flow[];            /* struct miniflow and its values. */
};

struct overlay_match *overlay_match_new(const struct match *);
struct overlay_match *overlay_match_ref(const struct overlay_match *);
void overlay_match_unref(struct overlay_match *);

struct overlay_flow {
    struct hmap_node node;      /* In a flow set, by (table, priority, match). */
    uint8_t table_id;
    uint16_t priority;
    uint64_t cookie;            /* Owner: a record, subnet or port. */
    struct overlay_match *match;
    const struct overlay_shared *actions;   /* struct ofpact series. */
};

uint32_t overlay_flow_hash(const struct overlay_flow *);
struct overlay_flow *overlay_flows_find(const struct hmap *,
                                        const struct overlay_flow *key);
void overlay_flows_clear(struct hmap *);
struct overlay_flow *overlay_flow_clone(const struct overlay_flow *);
void overlay_flow_destroy(struct overlay_flow *);
bool overlay_flow_same_value(const struct overlay_flow *,
                             const struct overlay_flow *);
void overlay_flow_format(const struct overlay_flow *, struct ds *);
void overlay_actions_format(const struct overlay_shared *, struct ds *);
char *overlay_flow_check(const struct overlay_flow *) OVS_WARN_UNUSED_RESULT;
void overlay_flow_mod(const struct overlay_flow *, int command,
                      struct ofputil_flow_mod *);

/* A change to make to the switch: 'old' NULL adds 'new', 'new' NULL deletes
 * 'old', both modify 'old' into 'new'. */
struct overlay_flow_change {
    const struct overlay_flow *old;
    const struct overlay_flow *new;
};

size_t overlay_flows_diff(const struct hmap *installed,
                          const struct hmap *desired, const struct hmap *keys,
                          struct overlay_flow_change **changes);
struct overlay_flow *overlay_flows_apply(struct hmap *,
                                         const struct overlay_flow_change *)
    OVS_WARN_UNUSED_RESULT;

#endif /* overlay/flow.h */
