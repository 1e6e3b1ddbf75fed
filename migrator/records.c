#include <config.h>

#include "migrator/records.h"

#include <string.h>

#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

/* Moves the lookup records of 'm''s VM to 'chassis''s PA in 'txn', with a
 * new generation. */
static void
move(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
     struct ovsdb_idl_index *index, const struct vmroamrec_migration *m,
     const char *chassis)
{
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, chassis);
    const struct vmroamrec_lookup_record **records;
    size_t n = policy_db_vm_records(index, m->vm, &records);
    if (ch && ch->n_pas && n) {
        for (size_t i = 0; i < n; i++) {
            vmroamrec_lookup_record_set_pa(records[i], ch->pas[0]);
            vmroamrec_lookup_record_set_chassis(records[i], chassis);
        }
        vmroamrec_migration_update_stats_setkey(
            m, "generation", policy_db_bump_generation(idl, txn));
    }
    free(records);
    const struct vmroamrec_vm *vm = policy_db_vm(idl, m->vm);
    if (vm) {
        vmroamrec_vm_set_chassis(vm, chassis);
    }
}

/* True if every lookup record of 'm''s VM points at 'chassis' (as
 * committed, or as the caller's transaction has it). */
static bool
records_on(struct ovsdb_idl_index *index, const struct vmroamrec_migration *m,
           const char *chassis)
{
    const struct vmroamrec_lookup_record **records;
    size_t n = policy_db_vm_records(index, m->vm, &records);
    size_t i = 0;
    while (i < n && !strcmp(records[i]->chassis, chassis)) {
        i++;
    }
    free(records);
    return i == n;
}

/* Moves the lookup records of 'm''s VM to 'chassis', unless they are all
 * there already, and stamps 'stamp' in the row when it does.  Returns true
 * if it moved them. */
bool
migr_records_put(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                 struct ovsdb_idl_index *index,
                 const struct vmroamrec_migration *m, const char *chassis,
                 const char *stamp)
{
    if (records_on(index, m, chassis)) {
        return false;
    }
    move(idl, txn, index, m, chassis);
    vmroamrec_migration_update_timestamps_setkey(m, stamp, time_wall_msec());
    return true;
}

/* The marker of a VM moving from 'source' to 'destination'. */
static void
marker(struct smap *moving, const char *source, const char *destination)
{
    smap_init(moving);
    smap_add(moving, "source", source);
    smap_add(moving, "destination", destination);
}

/* Marks 'vm' and its lookup records among those 'idl' replicates as moving
 * from 'source' to 'destination', in the transaction that queues the
 * migration: only those two hosts' agents may then move them. */
void
migr_records_mark(struct ovsdb_idl *idl, const struct vmroamrec_vm *vm,
                  const char *source, const char *destination)
{
    struct smap moving;
    marker(&moving, source, destination);
    vmroamrec_vm_set_moving(vm, &moving);
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, idl) {
        if (r->vm && !strcmp(r->vm, vm->name)) {
            vmroamrec_lookup_record_set_moving(r, &moving);
        }
    }
    smap_destroy(&moving);
}

/* True if 'moving' marks a move from 'm''s source to its destination. */
static bool
marks(const struct smap *moving, const struct vmroamrec_migration *m)
{
    const char *source = smap_get(moving, "source");
    const char *destination = smap_get(moving, "destination");
    return (source && destination && m->destination
            && !strcmp(source, m->source)
            && !strcmp(destination, m->destination));
}

/* True if 'm''s VM is marked as moving as 'm' says, so that its source and
 * destination may move its records. */
bool
migr_records_marked(struct ovsdb_idl *idl, const struct vmroamrec_migration *m)
{
    const struct vmroamrec_vm *vm = policy_db_vm(idl, m->vm);
    return vm && marks(&vm->moving, m);
}

/* Clears, in 'txn', the marks of finished migration 'm' from its VM and
 * its records, unless the VM has been queued to move again since, and
 * records that the VM runs on 'host'. */
void
migr_records_unmark(struct ovsdb_idl *idl, struct ovsdb_idl_index *index,
                    const struct vmroamrec_migration *m, const char *host)
{
    const struct vmroamrec_vm *vm = policy_db_vm(idl, m->vm);
    if (!vm || !marks(&vm->moving, m)
        || (vm->migration && vm->migration != m)) {
        return;
    }
    vmroamrec_vm_set_moving(vm, NULL);
    /* Where the VM runs now, in the last write the marks allow, whatever
     * either host's scan said while it moved. */
    if (!vm->chassis || strcmp(vm->chassis, host)) {
        vmroamrec_vm_set_chassis(vm, host);
    }
    const struct vmroamrec_lookup_record **records;
    size_t n = policy_db_vm_records(index, m->vm, &records);
    for (size_t i = 0; i < n; i++) {
        if (marks(&records[i]->moving, m)) {
            vmroamrec_lookup_record_set_moving(records[i], NULL);
        }
    }
    free(records);
}
