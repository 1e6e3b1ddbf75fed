#include <config.h>

#include "migrator/candidates.h"

#include <string.h>

#include "migrator/fsm.h"
#include "migrator/row.h"
#include "overlay/chassis.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

/* Migrations running or queued on chassis 'name'. */
static int64_t
busy(struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_migration *m;
    int64_t n = 0;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        n += (!migr_state_is_final(migr_row_state(m))
              && (!strcmp(m->source, name)
                  || (m->destination && !strcmp(m->destination, name))));
    }
    return n;
}

static int64_t
capacity(const struct vmroamrec_chassis *ch, const char *key, int64_t def)
{
    for (size_t i = 0; i < ch->n_capacity; i++) {
        if (!strcmp(ch->key_capacity[i], key)) {
            return ch->value_capacity[i];
        }
    }
    return def;
}

/* The footprint of host 'ch''s provider subnet, or NULL. */
const char *
migr_footprint_of(struct ovsdb_idl *idl, const struct vmroamrec_chassis *ch)
{
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        if (ch->provider_subnet && !strcmp(ps->prefix, ch->provider_subnet)) {
            return ps->footprint;
        }
    }
    return NULL;
}

/* Describes every host in 'idl' in 'c'. */
void
migr_candidates_read(struct ovsdb_idl *idl, struct migr_candidates *c)
{
    const struct vmroamrec_chassis *ch;
    size_t n = 0;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        n++;
    }
    c->hosts = xcalloc(n ? n : 1, sizeof *c->hosts);
    c->rows = xcalloc(n ? n : 1, sizeof *c->rows);
    c->downs = xcalloc(n ? n : 1, sizeof *c->downs);
    c->n = 0;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        size_t i = c->n++;
        overlay_chassis_is_down(idl, ch->name, time_wall_msec(),
                                &c->downs[i]);
        c->rows[i] = ch;
        c->hosts[i] = (struct migr_candidate) {
            .name = ch->name,
            .down = c->downs[i],
            .maintenance = ch->maintenance,
            .footprint = migr_footprint_of(idl, ch),
            .versions = &ch->versions,
            .memory_kb = capacity(ch, "memory_kb", 0),
            .free_disk_kb = capacity(ch, "free_disk_kb", -1),
            .max_migrations = ch->max_migrations,
            .free_slots = ch->max_migrations - busy(idl, ch->name),
        };
    }
    const struct vmroamrec_vm *vm;
    VMROAMREC_VM_FOR_EACH (vm, idl) {
        for (size_t i = 0; vm->chassis && i < c->n; i++) {
            if (!strcmp(c->hosts[i].name, vm->chassis)) {
                c->hosts[i].n_vms++;
                c->hosts[i].used_kb += vm->n_memory_kb ? vm->memory_kb[0] : 0;
            }
        }
    }
}

void
migr_candidates_destroy(struct migr_candidates *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->downs[i]);
    }
    free(c->downs);
    free(c->rows);
    free(c->hosts);
}

/* Describes VM 'vm', running on 'host', in 'v'. */
void
migr_placement_vm_read(const struct vmroamrec_vm *vm,
                       const struct vmroamrec_chassis *host,
                       struct migr_placement_vm *v)
{
    enum migr_priority priority = MIGR_PRIORITY_MEDIUM;
    if (vm->priority) {
        migr_priority_parse(vm->priority, &priority);
    }
    *v = (struct migr_placement_vm) {
        .name = vm->name,
        .chassis = host->name,
        .versions = &host->versions,
        .allowed = vm->allowed_chassis,
        .n_allowed = vm->n_allowed_chassis,
        .memory_kb = vm->n_memory_kb ? vm->memory_kb[0] : 0,
        .disk_kb = vm->n_disk_kb ? vm->disk_kb[0] : 0,
        .priority = priority,
    };
}
