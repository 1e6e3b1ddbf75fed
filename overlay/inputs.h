/* What a translation needs from the vmroam database besides the policy:
 * the VMs that left this chassis, from their records' move to the end of
 * the redirect grace period (and the new PAs to tunnel their late packets
 * to), the VMs migrating in and out,
 * and the other chassis' PAs.  Read from the IDL; the pipeline
 * (overlay/pipeline.h) turns them into flows. */

#ifndef OVERLAY_INPUTS_H
#define OVERLAY_INPUTS_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"
#include "overlay/pipeline.h"
#include "sset.h"

struct ovsdb_idl;
struct ovsdb_idl_index;

/* How long the source of a migration tunnels late packets on to the VM's
 * new PA while the other hosts' flows catch up. */
#define OVERLAY_REDIRECT_GRACE_MS 5000

struct overlay_inputs {
    struct overlay_redirect *redirects;     /* Point into the IDL. */
    size_t n_redirects;
    long long int redirects_expire;     /* When the first ends (wall clock
                                         * ms), LLONG_MAX if none. */
    struct sset incoming;       /* VMs migrating here, by name. */
    struct sset outgoing;       /* VMs migrating away, by name. */
    struct sset peer_pas;       /* PAs of the other chassis. */
};

void overlay_inputs_init(struct overlay_inputs *);
void overlay_inputs_gather(struct ovsdb_idl *, struct ovsdb_idl_index *records,
                           const char *chassis, long long int now,
                           struct overlay_inputs *);
void overlay_inputs_destroy(struct overlay_inputs *);
void overlay_inputs_peer_pas(struct ovsdb_idl *, const char *chassis,
                             struct sset *pas);

char *overlay_announce_key(int64_t vsid, struct eth_addr mac);

#endif /* overlay/inputs.h */
