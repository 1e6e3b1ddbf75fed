#include <config.h>

#include "migrator/records.h"

#include <string.h>

#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
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
