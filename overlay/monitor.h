/* What an agent replicates of the lookup records.
 *
 * A host needs the records of the routing domains it has VMs in, and no
 * others: the records placed on it, those marked as moving to or from it,
 * those of the VMs its migrations move (until the redirect grace after
 * they end), and every record of the virtual subnets of each routing
 * domain it hosts.  overlay_monitor_records() asks the server for those
 * alone, as ovn-controller asks for the datapaths it has ports on, or for
 * every record if 'all'.
 *
 * A new condition is in force once the server has acknowledged it: only
 * then does the replica hold every record of a routing domain new here.
 * The caller compares the number returned with
 * ovsdb_idl_get_condition_seqno(). */

#ifndef OVERLAY_MONITOR_H
#define OVERLAY_MONITOR_H 1

#include <stdbool.h>

struct ovsdb_idl;
struct policy;
struct sset;

unsigned int overlay_monitor_records(struct ovsdb_idl *, const char *chassis,
                                     const struct policy *,
                                     const struct sset *local_rds,
                                     const struct sset *vms, bool all);

#endif /* overlay/monitor.h */
