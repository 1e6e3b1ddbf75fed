#include <config.h>

#include "migrator/row.h"

#include <string.h>

#include "migrator/records.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"

/* The row's state; a state this version does not know reads as queued. */
enum migr_state
migr_row_state(const struct vmroamrec_migration *m)
{
    enum migr_state s = MIGR_QUEUED;
    migr_state_from_name(m->state, &s);
    return s;
}

static int64_t
lookup(char **keys, const int64_t *values, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], key)) {
            return values[i];
        }
    }
    return 0;
}

/* When the migration reached 'key' ("queued", "started", a state name,
 * "finished"), in ms since the epoch, or 0 if it did not (yet). */
int64_t
migr_row_timestamp(const struct vmroamrec_migration *m, const char *key)
{
    return lookup(m->key_timestamps, m->value_timestamps, m->n_timestamps,
                  key);
}

int64_t
migr_row_stat(const struct vmroamrec_migration *m, const char *key)
{
    return lookup(m->key_stats, m->value_stats, m->n_stats, key);
}

/* Whether the VM's lookup records move the moment it resumes on the
 * destination, or (the naive way, kept as the benchmark's baseline) only
 * once the hypervisor reports the whole migration complete. */
bool
migr_row_switchover_on_resume(const struct vmroamrec_migration *m)
{
    return strcmp(smap_get_def(&m->options, "switchover", "resume"),
                  "completion");
}

/* True if 'm' brings its VM to 'chassis' now, with a port there to be
 * made ready before the VM resumes (not so for the naive baseline). */
bool
migr_row_is_incoming(const struct vmroamrec_migration *m, const char *chassis)
{
    return (m->destination && !strcmp(m->destination, chassis)
            && migr_state_is_under_way(migr_row_state(m))
            && migr_row_switchover_on_resume(m));
}

/* Adds to 'incoming' the VMs that migrations bring to 'chassis' now, and
 * to 'outgoing' those that migrations take away from it. */
void
migr_row_moving(const struct ovsdb_idl *idl, const char *chassis,
                struct sset *incoming, struct sset *outgoing)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (migr_row_is_incoming(m, chassis)) {
            sset_add(incoming, m->vm);
        } else if (!strcmp(m->source, chassis)
                   && migr_state_is_under_way(migr_row_state(m))) {
            sset_add(outgoing, m->vm);
        }
    }
}

/* Adds to 'arriving' the VMs of the migrations to 'chassis' that have not
 * ended. */
void
migr_row_arriving(const struct ovsdb_idl *idl, const char *chassis,
                  struct sset *arriving)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (m->destination && !strcmp(m->destination, chassis)
            && !migr_state_is_final(migr_row_state(m))) {
            sset_add(arriving, m->vm);
        }
    }
}

/* Adds to 'peers' the other hosts of every migration 'chassis' takes part
 * in that has not ended. */
void
migr_row_peers(const struct ovsdb_idl *idl, const char *chassis,
               struct sset *peers)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (migr_state_is_final(migr_row_state(m)) || !m->destination) {
            continue;
        }
        if (!strcmp(m->source, chassis)) {
            sset_add(peers, m->destination);
        } else if (!strcmp(m->destination, chassis)) {
            sset_add(peers, m->source);
        }
    }
}

/* Adds to 'vms' the VMs of the migrations from or to 'chassis' that have
 * not ended, or ended at or after 'since' (wall clock, ms). */
void
migr_row_vms(const struct ovsdb_idl *idl, const char *chassis,
             long long int since, struct sset *vms)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if ((!strcmp(m->source, chassis)
             || (m->destination && !strcmp(m->destination, chassis)))
            && (!migr_state_is_final(migr_row_state(m))
                || migr_row_timestamp(m, "finished") >= since)) {
            sset_add(vms, m->vm);
        }
    }
}

/* Queues, in 'txn', the migration of 'vm' from 'source' to 'destination'
 * with 'options', as queued at 'queued_at' (the scheduler starts the
 * oldest first), and marks the VM and its lookup records among those 'idl'
 * replicates as moving between the two. */
const struct vmroamrec_migration *
migr_row_queue(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
               const struct vmroamrec_vm *vm, const char *source,
               const char *destination, bool best_host,
               const struct smap *options, long long int queued_at)
{
    const struct vmroamrec_migration *m = vmroamrec_migration_insert(txn);
    vmroamrec_migration_set_vm(m, vm->name);
    vmroamrec_migration_set_source(m, source);
    vmroamrec_migration_set_destination(m, destination);
    vmroamrec_migration_set_best_host(m, best_host);
    vmroamrec_migration_set_options(m, options);
    vmroamrec_migration_set_state(m, "queued");
    vmroamrec_migration_update_timestamps_setkey(m, "queued", queued_at);
    vmroamrec_vm_set_migration(vm, m);
    migr_records_mark(idl, vm, source, destination);
    return m;
}
