#include <config.h>

#include "overlay/chassis.h"

#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "overlay/pipeline.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(overlay_chassis);

static const struct vmroamrec_chassis_private *
find_private(struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_chassis_private *cp;
    VMROAMREC_CHASSIS_PRIVATE_FOR_EACH (cp, idl) {
        if (!strcmp(cp->name, name)) {
            return cp;
        }
    }
    return NULL;
}

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

/* Writes what only this host and the peers of its migrations read into its
 * Chassis_Private row: its heartbeat, and the generation its flows reflect
 * (which the command line's --wait reads), so that no other agent hears of
 * every change. */
static void
update_private(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
               const struct overlay_chassis_state *st)
{
    const struct vmroamrec_chassis_private *cp = find_private(idl, st->name);
    bool generation = !cp || cp->generation_applied != st->generation_applied;
    if (!st->heartbeat && !generation) {
        return;
    }
    if (!cp) {
        cp = vmroamrec_chassis_private_insert(txn);
        vmroamrec_chassis_private_set_name(cp, st->name);
    }
    if (st->heartbeat) {
        vmroamrec_chassis_private_set_heartbeat(cp, st->heartbeat);
    }
    if (generation) {
        /* When, so that a switchover can be timed to its last host. */
        char *at = xasprintf("%lld", st->generation_applied_at);
        vmroamrec_chassis_private_set_generation_applied(
            cp, st->generation_applied);
        vmroamrec_chassis_private_update_external_ids_setkey(
            cp, "generation-applied-at", at);
        free(at);
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
    if (st->versions && !smap_equal(&ch->versions, st->versions)) {
        vmroamrec_chassis_set_versions(ch, st->versions);
    }
    set_external_id(ch, "libvirt-uri", st->libvirt_uri);
    set_external_id(ch, "migration-ports", st->migration_ports);
    set_external_id(ch, "migration-channel", st->migration_channel);
    set_external_id(ch, "migration-socket-dir",
                    st->migration_channel ? st->migration_socket_dir : NULL);
    update_private(idl, txn, st);
}

/* Says whether host 'name' is up at wall clock time 'now', and stores in
 * '*heard' when its agent was last heard from (0 if never). */
enum overlay_liveness
overlay_chassis_liveness(struct ovsdb_idl *idl, const char *name,
                         long long int now, long long int *heard)
{
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, name);
    const struct vmroamrec_chassis_private *cp = find_private(idl, name);
    *heard = cp ? cp->heartbeat : 0;
    if (!ch || !ch->state || strcmp(ch->state, "up")) {
        return OVERLAY_HOST_DOWN;
    }
    return (!cp ? OVERLAY_HOST_UNKNOWN
            : now - cp->heartbeat > OVERLAY_CHASSIS_TIMEOUT_MS
            ? OVERLAY_HOST_SILENT : OVERLAY_HOST_UP);
}

/* True if host 'name' is known to be down, with why in '*why' (the
 * caller frees it). */
bool
overlay_chassis_is_down(struct ovsdb_idl *idl, const char *name,
                        long long int now, char **why)
{
    long long int heard;
    enum overlay_liveness l = overlay_chassis_liveness(idl, name, now,
                                                       &heard);
    *why = NULL;
    if (l == OVERLAY_HOST_DOWN) {
        *why = xasprintf("host %s is down", name);
    } else if (l == OVERLAY_HOST_SILENT) {
        char *since = xastrftime_msec("%Y-%m-%d %H:%M:%S", heard, true);
        *why = xasprintf("host %s is down: its agent has been silent for "
                         "%lld s (since %s UTC)", name, (now - heard) / 1000,
                         since);
        free(since);
    }
    return *why != NULL;
}

/* Monitors the Chassis_Private rows of this host and of 'peers' only, so
 * that hosts do not receive each other's heartbeats, except from the
 * peers of their migrations, whose death they must notice.  Returns the
 * condition sequence number at which the replica holds those. */
unsigned int
overlay_chassis_monitor(struct ovsdb_idl *idl, const char *self,
                        const struct sset *peers)
{
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    vmroamrec_chassis_private_add_clause_name(&cond, OVSDB_F_EQ, self);
    /* In a stable order, so that an unchanged set is no new condition. */
    const char **sorted = sset_sort(peers);
    for (size_t i = 0; i < sset_count(peers); i++) {
        vmroamrec_chassis_private_add_clause_name(&cond, OVSDB_F_EQ,
                                                  sorted[i]);
    }
    free(sorted);
    unsigned int seqno = vmroamrec_chassis_private_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    return seqno;
}

/* Returns VM row 'name' if this host, 'chassis', may write it, inserting
 * it if there is none yet.  A VM another host runs is that host's, unless
 * "vmroam migrate" marked it as moving between the two: the agent role
 * forbids the write, and a refused write would fail the whole
 * transaction. */
const struct vmroamrec_vm *
overlay_chassis_own_vm(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                       const char *chassis, const char *name)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    const struct vmroamrec_vm *vm = policy_db_vm(idl, name);
    if (!vm) {
        vm = vmroamrec_vm_insert(txn);
        vmroamrec_vm_set_name(vm, name);
        return vm;
    }
    const char *source = smap_get(&vm->moving, "source");
    const char *destination = smap_get(&vm->moving, "destination");
    if ((vm->chassis && !strcmp(vm->chassis, chassis))
        || (source && !strcmp(source, chassis))
        || (destination && !strcmp(destination, chassis))) {
        return vm;
    }
    VLOG_WARN_RL(&rl, "VM %s runs here, but the database says it runs on %s "
                 "and is not migrating here: not claiming it (migrate it "
                 "with \"vmroam migrate\")", name,
                 vm->chassis ? vm->chassis : "no host");
    return NULL;
}

/* Stores in '*nicsp' (freed with overlay_chassis_vm_nics_destroy()) the
 * NICs of the named VMs bound to 'ports' that run here, and returns how
 * many there are; '*nicsp' is never null.  An incoming VM runs here once
 * its migration says so. */
size_t
overlay_chassis_vm_nics(const struct overlay_port *ports, size_t n,
                        struct overlay_vm_nic **nicsp)
{
    struct overlay_vm_nic *nics = xmalloc(MAX(n, 1) * sizeof *nics);
    size_t n_nics = 0;
    for (size_t i = 0; i < n; i++) {
        const struct policy_lookup_record *r = ports[i].record;
        if (r->vm && !ports[i].incoming) {
            nics[n_nics++] = (struct overlay_vm_nic) {
                .vm = xstrdup(r->vm),
                .mac = xstrdup(r->mac),
                .iface = xstrdup(ports[i].iface->name),
            };
        }
    }
    *nicsp = nics;
    return n_nics;
}

void
overlay_chassis_vm_nics_destroy(struct overlay_vm_nic *nics, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(nics[i].vm);
        free(nics[i].mac);
        free(nics[i].iface);
    }
    free(nics);
}

/* Records in the VM table that the VM of each of 'nics' runs here, with
 * that NIC (MAC -> interface). */
void
overlay_chassis_report_vms(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                           const char *chassis,
                           const struct overlay_vm_nic *nics, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct vmroamrec_vm *vm = overlay_chassis_own_vm(idl, txn,
                                                               chassis,
                                                               nics[i].vm);
        if (!vm) {
            continue;
        }
        if (!vm->chassis || strcmp(vm->chassis, chassis)) {
            vmroamrec_vm_set_chassis(vm, chassis);
        }
        const char *iface = smap_get(&vm->ports, nics[i].mac);
        if (!iface || strcmp(iface, nics[i].iface)) {
            vmroamrec_vm_update_ports_setkey(vm, nics[i].mac, nics[i].iface);
        }
    }
}

/* Records in the VM table that the VMs in 'running' (as the hypervisor
 * lists them) run here, and that VMs said to run here but not listed do
 * not run anywhere known.  The VMs 'arriving' by migration are left to
 * their migration: libvirt lists an incoming VM long before it runs here. */
void
overlay_chassis_report_running(struct ovsdb_idl *idl,
                               struct ovsdb_idl_txn *txn, const char *chassis,
                               const struct sset *running,
                               const struct sset *arriving)
{
    const struct vmroamrec_vm *vm;
    const char *name;
    SSET_FOR_EACH (name, running) {
        if (sset_contains(arriving, name)) {
            continue;
        }
        vm = overlay_chassis_own_vm(idl, txn, chassis, name);
        if (!vm) {
            continue;
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
            && !sset_contains(arriving, vm->name)
            && (!vm->state || strcmp(vm->state, "stopped"))) {
            vmroamrec_vm_set_state(vm, "stopped");
        }
    }
}

/* Marks chassis 'name' down as its agent stops, waiting at most
 * 'timeout_ms' for the database: other hosts then know at once, instead
 * of after the heartbeat timeout. */
void
overlay_chassis_mark_down(struct ovsdb_idl *idl, const char *name,
                          int timeout_ms)
{
    long long int deadline = time_msec() + timeout_ms;
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, name);
    if (ch) {
        vmroamrec_chassis_set_state(ch, "down");
    }
    policy_db_commit_until(idl, txn, deadline);
    ovsdb_idl_txn_destroy(txn);
}
