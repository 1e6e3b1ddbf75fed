/* This host's rows in the vmroam database: its Chassis row (registered at
 * start, refreshed while the agent runs, marked down when it stops) and the
 * VM rows of the VMs bound to it. */

#ifndef OVERLAY_CHASSIS_H
#define OVERLAY_CHASSIS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct overlay_port;
struct smap;
struct sset;

/* How often the Chassis row's heartbeat is refreshed. */
#define OVERLAY_CHASSIS_HEARTBEAT_MS 10000

struct overlay_chassis_state {
    const char *name;
    const char *pa;             /* May be NULL. */
    const char *provider_subnet;    /* Of the PA, or NULL. */
    const char *underlay_link;  /* "up", "down", or NULL if unknown. */
    const char *libvirt_uri;    /* How peers reach its hypervisor. */
    const char *migration_ports;    /* "MIN-MAX" it receives on, or NULL. */
    bool up;
    int64_t generation_applied;
    long long int generation_applied_at;    /* When, in ms since the epoch. */
    const struct smap *versions;
    long long int heartbeat;    /* ms since the epoch, or 0 to keep. */
};

void overlay_chassis_update(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                            const struct overlay_chassis_state *);
void overlay_chassis_report_vms(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                const char *chassis,
                                const struct overlay_port *, size_t n);
void overlay_chassis_report_running(struct ovsdb_idl *,
                                    struct ovsdb_idl_txn *,
                                    const char *chassis,
                                    const struct sset *running);

#endif /* overlay/chassis.h */
