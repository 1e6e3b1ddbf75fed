/* OpenFlow flows as vmroam computes and installs them.
 *
 * A flow is identified by (table, priority, match), as OpenFlow identifies
 * it for strict modify and delete; its actions and cookie are its value.
 * Matches and actions are kept in ovs-ofctl syntax, which keeps the
 * translation readable and testable, and is parsed with libopenvswitch's
 * own parser when a flow is sent.  Their texts are reference counted
 * (overlay_text_*()), so that the sets holding a flow share one copy.
 *
 * A flow set is an hmap of flows; overlay_flows_diff() lists what turns one
 * set into another.  overlay/desired.h keeps the set the switch should
 * hold. */

#ifndef OVERLAY_FLOW_H
#define OVERLAY_FLOW_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

struct ds;
struct ofputil_flow_mod;

struct overlay_flow {
    struct hmap_node node;      /* In a flow set, by (table, priority, match). */
    uint8_t table_id;
    uint16_t priority;
    uint64_t cookie;            /* Owner: a record, subnet or port. */
    char *match;                /* ovs-ofctl syntax, "" for any. */
    char *actions;              /* ovs-ofctl syntax. */
};

char *overlay_text_new(const char *);
char *overlay_text_ref(const char *);
void overlay_text_unref(char *);

uint32_t overlay_flow_hash(const struct overlay_flow *);
struct overlay_flow *overlay_flows_find(const struct hmap *,
                                        const struct overlay_flow *key);
void overlay_flows_clear(struct hmap *);
struct overlay_flow *overlay_flow_clone(const struct overlay_flow *);
void overlay_flow_destroy(struct overlay_flow *);
bool overlay_flow_same_value(const struct overlay_flow *,
                             const struct overlay_flow *);
void overlay_flow_format(const struct overlay_flow *, struct ds *);
char *overlay_flow_parse(const struct overlay_flow *, int command,
                         struct ofputil_flow_mod *)
    OVS_WARN_UNUSED_RESULT;

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
