/* What this host and its VMs weigh, in the database, for placement.
 *
 * The agent reports its host's memory, free memory, CPUs and the free
 * space where VM disks go into Chassis.capacity, and each running VM's
 * maximum memory, vCPUs and local disks into its VM row.  Free memory and
 * disk space move all the time: they are written in steps of
 * MIGR_INVENTORY_STEP_KB, so that the database hears of real changes
 * only. */

#ifndef MIGRATOR_INVENTORY_H
#define MIGRATOR_INVENTORY_H 1

#include <stddef.h>
#include <stdint.h>

struct migr_host_size;
struct migr_vm_size;
struct ovsdb_idl;
struct ovsdb_idl_txn;

#define MIGR_INVENTORY_STEP_KB (64 * 1024)

void migr_inventory_report(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                           const char *chassis,
                           const struct migr_host_size *,
                           int64_t free_disk_kb,
                           const struct migr_vm_size *, size_t n_vms);

#endif /* migrator/inventory.h */
