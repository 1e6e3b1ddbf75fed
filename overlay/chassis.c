#include <config.h>

#include "overlay/chassis.h"

#include <string.h>

#include "overlay/pipeline.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"
#include "util.h"

/* Sets 'key' in 'ch''s external_ids to 'value', or removes it if NULL. */
static void
set_external_id(const struct vmroamrec_chassis *ch, const char *key,
                const char *value)
{
    if (nullable_string_is_equal(smap_get(&ch->external_ids, key), value)) {
        return;
    }
    if (value) {
        vmroamrec_chassis_update_external_ids_setkey(ch, key, value);
    } else {
        vmroamrec_chassis_update_external_ids_delkey(ch, key);
    }
}

/* Writes 'st' into this host's Chassis row, creating it if needed; only the
 * columns that differ are written, so an idle agent sends nothing. */
void
overlay_chassis_update(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                       const struct overlay_chassis_state *st)
{
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, st->name);
    if (!ch) {
        ch = vmroamrec_chassis_insert(txn);
        vmroamrec_chassis_set_name(ch, st->name);
        vmroamrec_chassis_set_max_migrations(ch, 2);
        vmroamrec_chassis_set_max_storage_migrations(ch, 1);
    }

    if (st->pa ? ch->n_pas != 1 || strcmp(ch->pas[0], st->pa) : ch->n_pas) {
        vmroamrec_chassis_set_pas(ch, (const char **) &st->pa, !!st->pa);
    }
    if (!nullable_string_is_equal(ch->provider_subnet, st->provider_subnet)) {
        vmroamrec_chassis_set_provider_subnet(ch, st->provider_subnet);
    }
    if (!nullable_string_is_equal(ch->underlay_link, st->underlay_link)) {
        vmroamrec_chassis_set_underlay_link(ch, st->underlay_link);
    }
    const char *state = st->up ? "up" : "down";
    if (!ch->state || strcmp(ch->state, state)) {
        vmroamrec_chassis_set_state(ch, state);
    }
    if (ch->generation_applied != st->generation_applied) {
        /* When, so that a switchover can be timed to its last host. */
        char *at = xasprintf("%lld", st->generation_applied_at);
        vmroamrec_chassis_set_generation_applied(ch, st->generation_applied);
        set_external_id(ch, "generation-applied-at", at);
        free(at);
    }
    if (st->versions && !smap_equal(&ch->versions, st->versions)) {
        vmroamrec_chassis_set_versions(ch, st->versions);
    }
    set_external_id(ch, "libvirt-uri", st->libvirt_uri);
    set_external_id(ch, "migration-ports", st->migration_ports);
    if (st->heartbeat) {
        vmroamrec_chassis_set_heartbeat(ch, st->heartbeat);
    }
}

/* Records in the VM table that each named VM of 'ports' runs here, with its
 * NIC (MAC -> interface). */
void
overlay_chassis_report_vms(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                           const char *chassis,
                           const struct overlay_port *ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct policy_lookup_record *r = ports[i].record;
        if (!r->vm || ports[i].incoming) {
            /* An incoming VM runs here once its migration says so. */
            continue;
        }
        const struct vmroamrec_vm *vm = policy_db_vm(idl, r->vm);
        if (!vm) {
            vm = vmroamrec_vm_insert(txn);
            vmroamrec_vm_set_name(vm, r->vm);
        }
        if (!vm->chassis || strcmp(vm->chassis, chassis)) {
            vmroamrec_vm_set_chassis(vm, chassis);
        }
        const char *iface = smap_get(&vm->ports, r->mac);
        if (!iface || strcmp(iface, ports[i].iface->name)) {
            vmroamrec_vm_update_ports_setkey(vm, r->mac,
                                             ports[i].iface->name);
        }
    }
}

/* Records in the VM table that the VMs in 'running' (as the hypervisor
 * lists them) run here, and that VMs said to run here but not listed do
 * not run anywhere known. */
void
overlay_chassis_report_running(struct ovsdb_idl *idl,
                               struct ovsdb_idl_txn *txn, const char *chassis,
                               const struct sset *running)
{
    const struct vmroamrec_vm *vm;
    const char *name;
    SSET_FOR_EACH (name, running) {
        vm = policy_db_vm(idl, name);
        if (!vm) {
            vm = vmroamrec_vm_insert(txn);
            vmroamrec_vm_set_name(vm, name);
        }
        if (!vm->chassis || strcmp(vm->chassis, chassis)) {
            vmroamrec_vm_set_chassis(vm, chassis);
        }
        if (!vm->state || strcmp(vm->state, "running")) {
            vmroamrec_vm_set_state(vm, "running");
        }
    }
    VMROAMREC_VM_FOR_EACH (vm, idl) {
        if (vm->chassis && !strcmp(vm->chassis, chassis)
            && !sset_contains(running, vm->name)
            && (!vm->state || strcmp(vm->state, "stopped"))) {
            vmroamrec_vm_set_state(vm, "stopped");
        }
    }
}
