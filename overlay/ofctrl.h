/* The OpenFlow connection to br-int and the flow installer.
 *
 * One persistent connection (rconn, OpenFlow 1.3 to 1.5).  Each call to
 * overlay_ofctrl_put() sends what turns the flows installed into the
 * desired ones as one ordered, atomic bundle: the switch applies all of it
 * or none.  After every (re)connection, including a restart of
 * ovs-vswitchd, the first bundle deletes all flows and adds the desired
 * set, still atomically, so the switch never forwards on half a table.
 * A large bundle goes out in pieces from overlay_ofctrl_run(), as the
 * switch takes them: a bounded queue, and the caller's loop goes on
 * meanwhile; puts wait until it is all sent.
 *
 * Each put carries a caller-chosen, increasing number; once the switch has
 * committed the bundle holding it, overlay_ofctrl_acked() returns it.
 *
 * Packets the pipeline sends to the controller (a migrated VM announcing
 * itself) are kept for overlay_ofctrl_take_packet_ins(). */

#ifndef OVERLAY_OFCTRL_H
#define OVERLAY_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

struct overlay_desired;
struct overlay_ofctrl;

struct overlay_ofctrl *overlay_ofctrl_create(const char *target);
void overlay_ofctrl_destroy(struct overlay_ofctrl *);

void overlay_ofctrl_run(struct overlay_ofctrl *);
void overlay_ofctrl_wait(struct overlay_ofctrl *);

bool overlay_ofctrl_put(struct overlay_ofctrl *, struct overlay_desired *,
                        uint64_t req);
uint64_t overlay_ofctrl_acked(const struct overlay_ofctrl *);

bool overlay_ofctrl_is_connected(const struct overlay_ofctrl *);
size_t overlay_ofctrl_n_flows(const struct overlay_ofctrl *);
unsigned int overlay_ofctrl_n_resyncs(const struct overlay_ofctrl *);
bool overlay_ofctrl_sending(const struct overlay_ofctrl *, size_t *sent,
                           size_t *total);
void overlay_ofctrl_force_resync(struct overlay_ofctrl *);

bool overlay_ofctrl_packet_out(struct overlay_ofctrl *, const char *);

struct overlay_packet_in {
    int64_t vsid;               /* The metadata the pipeline had set. */
    struct eth_addr eth_src;
};
size_t overlay_ofctrl_take_packet_ins(struct overlay_ofctrl *,
                                      struct overlay_packet_in **);

#endif /* overlay/ofctrl.h */
