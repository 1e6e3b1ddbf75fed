#include <config.h>

#include "migrator/inventory.h"

#include <string.h>

#include "migrator/backend.h"
#include "overlay/chassis.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "util.h"

static int64_t
step(int64_t kb)
{
    return kb / MIGR_INVENTORY_STEP_KB * MIGR_INVENTORY_STEP_KB;
}

static void
report_host(const struct vmroamrec_chassis *ch,
            const struct migr_host_size *host, int64_t free_disk_kb)
{
    const char *keys[] = {
        "memory_kb", "free_memory_kb", "cpus", "free_disk_kb",
    };
    int64_t values[] = {
        host->memory_kb, step(host->free_memory_kb), host->cpus,
        step(free_disk_kb),
    };
    size_t n = free_disk_kb >= 0 ? 4 : 3;
    bool same = ch->n_capacity == n;
    for (size_t i = 0; same && i < n; i++) {
        same = (!strcmp(ch->key_capacity[i], keys[i])
                && ch->value_capacity[i] == values[i]);
    }
    if (!same) {
        vmroamrec_chassis_set_capacity(ch, CONST_CAST(const char **, keys),
                                       values, n);
    }
}

static bool
same_disks(const struct vmroamrec_vm *row, const struct sset *disks)
{
    if (row->n_disks != sset_count(disks)) {
        return false;
    }
    for (size_t i = 0; i < row->n_disks; i++) {
        if (!sset_contains(disks, row->disks[i])) {
            return false;
        }
    }
    return true;
}

static void
report_vm(const struct vmroamrec_vm *row, const struct migr_vm_size *vm)
{
    if (!vm->memory_kb) {
        /* Busy with a job: libvirt said nothing of it this time. */
        return;
    }
    if (!row->n_memory_kb || row->memory_kb[0] != vm->memory_kb) {
        vmroamrec_vm_set_memory_kb(row, &vm->memory_kb, 1);
    }
    if (!row->n_vcpus || row->vcpus[0] != vm->vcpus) {
        vmroamrec_vm_set_vcpus(row, &vm->vcpus, 1);
    }
    if (!row->n_disk_kb || row->disk_kb[0] != vm->disk_kb) {
        vmroamrec_vm_set_disk_kb(row, &vm->disk_kb, 1);
    }
    if (!same_disks(row, &vm->disks)) {
        const char **disks = sset_array(&vm->disks);
        vmroamrec_vm_set_disks(row, disks, sset_count(&vm->disks));
        free(disks);
    }
}

/* Writes, in 'txn', what 'host' (with 'free_disk_kb' where VM disks go, or
 * -1 if unknown) and the 'n_vms' VMs running on it weigh, where it
 * differs from what 'idl' holds.  VMs without a row yet are left for the
 * next report: the hypervisor scan inserts them. */
void
migr_inventory_report(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                      const char *chassis, const struct migr_host_size *host,
                      int64_t free_disk_kb, const struct migr_vm_size *vms,
                      size_t n_vms)
{
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, chassis);
    if (ch) {
        report_host(ch, host, free_disk_kb);
    }
    for (size_t i = 0; i < n_vms; i++) {
        if (policy_db_vm(idl, vms[i].name)) {
            const struct vmroamrec_vm *row
                = overlay_chassis_own_vm(idl, txn, chassis, vms[i].name);
            if (row) {
                report_vm(row, &vms[i]);
            }
        }
    }
}
