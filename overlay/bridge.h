/* br-int in the local Open vSwitch database, through the vswitch IDL.
 *
 * vmroamd keeps br-int in shape (its datapath type, fail-mode secure so the
 * switch never floods while the agent is away, OpenFlow 1.3-1.5) with one
 * flow-based GRE port (remote_ip=flow, key=flow, and local_ip=PA if the PA
 * is static: a leased one is the source of the switch's routes, see
 * overlay/routes.h), reads the VM interfaces on it, and marks an interface
 * external_ids:vmroam-installed once its flows are in the switch, as
 * ovn-controller does with ovn-installed. */

#ifndef OVERLAY_BRIDGE_H
#define OVERLAY_BRIDGE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct overlay_iface;
struct overlay_port;
struct sset;

#define OVERLAY_GRE_PORT "vmroam-gre"
#define OVERLAY_INSTALLED_KEY "vmroam-installed"

struct overlay_bridge_cfg {
    const char *bridge;         /* "br-int". */
    const char *datapath_type;  /* "netdev" or "system". */
    const char *local_ip;       /* The chassis's PA, or NULL. */
};

void overlay_bridge_register_columns(struct ovsdb_idl *);
bool overlay_bridge_ensure(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                           const struct overlay_bridge_cfg *);
size_t overlay_bridge_ifaces(struct ovsdb_idl *,
                             const struct overlay_bridge_cfg *,
                             struct overlay_iface **, int64_t *gre_ofport);
bool overlay_bridge_mark_installed(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                   const struct overlay_bridge_cfg *,
                                   const struct sset *installed);

#endif /* overlay/bridge.h */
