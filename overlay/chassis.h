/* This host's rows in the vmroam database: its Chassis row (registered at
 * start, refreshed while the agent runs, marked down when it stops), its
 * Chassis_Private row (the heartbeat) and the VM rows of the VMs bound to
 * it; and whether a host is alive, from those rows. */

#ifndef OVERLAY_CHASSIS_H
#define OVERLAY_CHASSIS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct vmroamrec_vm;
struct overlay_port;
struct smap;
struct sset;

/* How often an agent refreshes its heartbeat, in its Chassis_Private row
 * (which only it and the peers of its migrations monitor), and how long a
 * silence makes its host count as down.  Heartbeats are wall clock times:
 * hosts' clocks must agree to well within the timeout (NTP). */
#define OVERLAY_CHASSIS_HEARTBEAT_MS 2000
#define OVERLAY_CHASSIS_TIMEOUT_MS 10000

struct overlay_chassis_state {
    const char *name;
    const char *pa;             /* May be NULL. */
    const char *provider_subnet;    /* Of the PA, or NULL. */
    const char *underlay_link;  /* "up", "down", or NULL if unknown. */
    const char *libvirt_uri;    /* How peers reach its hypervisor. */
    const char *migration_ports;    /* "MIN-MAX" it receives on, or NULL. */
    const char *migration_channel;  /* "ssl:ADDR:PORT" of its channel. */
    const char *migration_socket_dir;   /* Where its channel's QEMU
                                         * sockets go. */
    bool up;
    int64_t generation_applied;
    long long int generation_applied_at;    /* When, in ms since the epoch. */
    const struct smap *versions;
    long long int heartbeat;    /* ms since the epoch, or 0 to keep. */
};

/* Whether a host can take part in migrations now. */
enum overlay_liveness {
    OVERLAY_HOST_UP,
    OVERLAY_HOST_DOWN,          /* Its agent stopped and said so. */
    OVERLAY_HOST_SILENT,        /* Its agent has not been heard from for
                                 * longer than the timeout. */
    OVERLAY_HOST_UNKNOWN,       /* Its private row is not replicated here. */
};

void overlay_chassis_update(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                            const struct overlay_chassis_state *);
enum overlay_liveness overlay_chassis_liveness(struct ovsdb_idl *,
                                               const char *name,
                                               long long int now,
                                               long long int *heard);
bool overlay_chassis_is_down(struct ovsdb_idl *, const char *name,
                             long long int now, char **why);
void overlay_chassis_mark_down(struct ovsdb_idl *, const char *name,
                               int timeout_ms);
unsigned int overlay_chassis_monitor(struct ovsdb_idl *, const char *self,
                                     const struct sset *peers);
/* A VM's NIC bound to a port here, as the VM table records it. */
struct overlay_vm_nic {
    char *vm;
    char *mac;
    char *iface;
};

size_t overlay_chassis_vm_nics(const struct overlay_port *, size_t n,
                               struct overlay_vm_nic **);
void overlay_chassis_vm_nics_destroy(struct overlay_vm_nic *, size_t n);
void overlay_chassis_report_vms(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                const char *chassis,
                                const struct overlay_vm_nic *, size_t n);
const struct vmroamrec_vm *overlay_chassis_own_vm(struct ovsdb_idl *,
                                                  struct ovsdb_idl_txn *,
                                                  const char *chassis,
                                                  const char *name);
void overlay_chassis_report_running(struct ovsdb_idl *,
                                    struct ovsdb_idl_txn *,
                                    const char *chassis,
                                    const struct sset *running,
                                    const struct sset *arriving);

#endif /* overlay/chassis.h */
