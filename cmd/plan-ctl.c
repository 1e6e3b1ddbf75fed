/* "vmroam host drain", "vmroam footprint evacuate", "vmroam plans",
 * "vmroam plan show": move every VM off a host or off a whole footprint,
 * as a plan kept in the database (Plan, Plan_Item) whose migrations go
 * through the agents' queue and per-host limits. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/vmroam.h"
#include "migrator/candidates.h"
#include "migrator/plan.h"
#include "migrator/row.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

/* What plans read and write: of the lookup records, only their VMs'. */
static const struct ovsdb_idl_table_class *const plan_tables[] = {
    &vmroamrec_table_plan, &vmroamrec_table_plan_item,
    &vmroamrec_table_migration, &vmroamrec_table_vm,
    &vmroamrec_table_chassis, &vmroamrec_table_chassis_private,
    &vmroamrec_table_provider_subnet, &vmroamrec_table_lookup_record, NULL,
};

/* The rate estimates assume while no migration has finished yet. */
#define ASSUMED_BYTES_PER_SEC (100LL << 20)

/* A drain or an evacuation being planned. */
struct request {
    const struct vmroam_ctx *ctx;
    const char *kind;           /* "drain" or "evacuate". */
    const char *target;         /* The host or the footprint emptied. */
    const char *to_footprint;   /* Or NULL for anywhere. */
    int headroom_pct;
    bool quick_low;             /* Quick-migrate low-priority VMs. */
    const struct sset *vms;     /* The VMs found on the target. */
    struct table table;         /* The plan's VMs, for the operator. */
};

/* Counts the items of 'p' in each state into 'counts'. */
static void
count_items(const struct vmroamrec_plan *p, size_t counts[])
{
    memset(counts, 0, MIGR_N_ITEM_STATES * sizeof *counts);
    for (size_t i = 0; i < p->n_items; i++) {
        const struct vmroamrec_migration *m = p->items[i]->migration;
        counts[migr_item_state(m != NULL, m ? migr_row_state(m) : 0)]++;
    }
}

static const char *
plan_state(const struct vmroamrec_plan *p)
{
    size_t counts[MIGR_N_ITEM_STATES];
    count_items(p, counts);
    return migr_plan_state(counts, p->cancel_requested);
}

static bool
empties(const struct request *r, struct ovsdb_idl *idl,
        const struct vmroamrec_chassis *ch)
{
    const char *fp;
    return (!strcmp(r->kind, "drain") ? !strcmp(ch->name, r->target)
            : (fp = migr_footprint_of(idl, ch)) && !strcmp(fp, r->target));
}

/* Adds the VMs on the hosts 'r' empties to 'vms'.  Returns false, having
 * said why, if there is no such host. */
static bool
find_vms(const struct request *r, struct ovsdb_idl *idl, struct sset *vms)
{
    const struct vmroamrec_chassis *ch;
    size_t n_hosts = 0;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        if (empties(r, idl, ch)) {
            n_hosts++;
            const struct vmroamrec_vm *vm;
            VMROAMREC_VM_FOR_EACH (vm, idl) {
                if (vm->chassis && !strcmp(vm->chassis, ch->name)) {
                    sset_add(vms, vm->name);
                }
            }
        }
    }
    if (!n_hosts && !strcmp(r->kind, "drain")) {
        fprintf(stderr, "vmroam: no host named %s\n", r->target);
    } else if (!n_hosts) {
        fprintf(stderr, "vmroam: footprint %s has no hosts\n", r->target);
    }
    return n_hosts > 0;
}

/* The plan of the same kind and target that has not ended, if any:
 * running the command again resumes it. */
static const struct vmroamrec_plan *
open_plan(const struct request *r, struct ovsdb_idl *idl)
{
    const struct vmroamrec_plan *p;
    VMROAMREC_PLAN_FOR_EACH (p, idl) {
        if (!strcmp(p->kind, r->kind) && !strcmp(p->target, r->target)
            && !p->cancel_requested && strcmp(plan_state(p), "done")) {
            return p;
        }
    }
    return NULL;
}

/* True if 'vm' has a migration under way or queued (of any plan). */
static bool
is_moving(const struct vmroamrec_vm *vm)
{
    return vm->migration && !migr_state_is_final(migr_row_state(vm->migration));
}

/* The rate migrations have reached, in bytes per second, from those done
 * (or an assumption, said in '*assumed'). */
static long long int
measured_rate(struct ovsdb_idl *idl, bool *assumed)
{
    const struct vmroamrec_migration *m;
    long long int bytes = 0, ms = 0;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        int64_t started = migr_row_timestamp(m, "started");
        int64_t finished = migr_row_timestamp(m, "finished");
        if (migr_row_state(m) == MIGR_DONE && started && finished > started) {
            bytes += migr_row_stat(m, "bytes_processed");
            ms += finished - started;
        }
    }
    *assumed = !bytes || !ms;
    return *assumed ? ASSUMED_BYTES_PER_SEC : bytes * 1000 / ms;
}

static void
init_table(struct table *t, const char *caption)
{
    static const char *const columns[] = {
        "vm", "from", "to", "memory", "disk", "priority", "wave",
        "estimate", "state",
    };
    table_init(t);
    table_set_caption(t, xstrdup(caption));
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        table_add_column(t, "%s", columns[i]);
    }
}

/* One VM of the plan, as the operator sees it. */
static void
add_row(struct table *t, const struct vmroamrec_plan_item *it,
        long long int rate, const char *state)
{
    table_add_row(t);
    vmroam_cell(t, it->vm);
    vmroam_cell(t, it->source);
    vmroam_cell(t, it->destination ? it->destination : "-");
    vmroam_cell_nocopy(t, xasprintf("%"PRId64" MiB", it->memory_kb / 1024));
    vmroam_cell_nocopy(t, xasprintf("%"PRId64" MiB", it->disk_kb / 1024));
    vmroam_cell(t, it->priority);
    vmroam_cell_nocopy(t, it->destination ? xasprintf("%"PRId64, it->wave)
                                          : xstrdup("-"));
    vmroam_cell_nocopy(t, (it->destination
                           ? xasprintf("%lld s", (it->memory_kb * 1024
                                                  / rate) + 1)
                           : xstrdup("-")));
    vmroam_cell_nocopy(t, (it->cause
                           ? xasprintf("%s: %s", state, it->cause)
                           : xstrdup(state)));
}

/* Writes the item of VM 'v' (placed as 'e' says on 'hosts') in 'txn'. */
static const struct vmroamrec_plan_item *
write_item(struct ovsdb_idl_txn *txn, const struct migr_placement_vm *v,
           const struct migr_plan_entry *e,
           const struct migr_candidates *hosts, const char *cause)
{
    const struct vmroamrec_plan_item *it = vmroamrec_plan_item_insert(txn);
    vmroamrec_plan_item_set_vm(it, v->name);
    vmroamrec_plan_item_set_source(it, v->chassis);
    vmroamrec_plan_item_set_priority(it, migr_priority_name(v->priority));
    vmroamrec_plan_item_set_memory_kb(it, v->memory_kb);
    vmroamrec_plan_item_set_disk_kb(it, v->disk_kb);
    if (e && e->host != MIGR_PLACE_NONE) {
        vmroamrec_plan_item_set_destination(it, hosts->hosts[e->host].name);
        vmroamrec_plan_item_set_wave(it, e->wave);
    } else {
        vmroamrec_plan_item_set_cause(it, cause);
    }
    return it;
}

/* Why 'vm' cannot be planned at all, or NULL. */
static const char *
unmovable(const struct vmroamrec_vm *vm)
{
    return (!vm->state || strcmp(vm->state, "running")
            ? "not running under libvirt: nothing to migrate live"
            : NULL);
}

static const struct vmroamrec_chassis *
host_row(const struct migr_candidates *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->hosts[i].name, name)) {
            return c->rows[i];
        }
    }
    return NULL;
}

/* Puts the hosts 'r' empties in maintenance, in 'txn' (unless a dry run)
 * and in 'c', where placement sees them. */
static void
mark_targets(const struct request *r, struct ovsdb_idl *idl,
             struct migr_candidates *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (empties(r, idl, c->rows[i])) {
            c->hosts[i].maintenance = true;
            if (!r->ctx->dry_run) {
                vmroamrec_chassis_set_maintenance(c->rows[i], true);
            }
        }
    }
}

/* Describes in 'vms' the VMs of 'r->vms' that are still on the hosts 'r'
 * empties and not moving already; returns how many. */
static size_t
read_vms(const struct request *r, struct ovsdb_idl *idl,
         const struct migr_candidates *c, struct migr_placement_vm *vms)
{
    size_t n = 0;
    const char *name;
    SSET_FOR_EACH (name, r->vms) {
        const struct vmroamrec_vm *vm = policy_db_vm(idl, name);
        const struct vmroamrec_chassis *host = (vm && vm->chassis
                                                ? host_row(c, vm->chassis)
                                                : NULL);
        if (host && empties(r, idl, host) && !is_moving(vm)) {
            migr_placement_vm_read(vm, host, &vms[n]);
            vms[n++].unmovable = unmovable(vm);
        }
    }
    return n;
}

/* The open plan's items whose VM is not planned again, then room for 'n'
 * more, in '*items'; returns how many it kept. */
static size_t
kept_items(const struct vmroamrec_plan *p,
           const struct migr_placement_vm *vms, size_t n,
           struct vmroamrec_plan_item ***items)
{
    size_t n_items = 0;
    *items = xcalloc((p ? p->n_items : 0) + n + 1, sizeof **items);
    for (size_t i = 0; p && i < p->n_items; i++) {
        bool again = false;
        for (size_t j = 0; j < n && !again; j++) {
            again = !strcmp(p->items[i]->vm, vms[j].name);
        }
        if (!again) {
            (*items)[n_items++] = p->items[i];
        }
    }
    return n_items;
}

/* Queues, in 'txn', VM 'v''s migration to 'dst', 'at' in the queue. */
static const struct vmroamrec_migration *
queue(const struct request *r, struct ovsdb_idl *idl,
      struct ovsdb_idl_txn *txn, const struct migr_placement_vm *v,
      const char *dst, long long int at)
{
    struct smap options = SMAP_INITIALIZER(&options);
    smap_add(&options, "storage", "auto");
    smap_add(&options, "switchover", "resume");
    smap_add(&options, "mode", (r->quick_low
                                && v->priority == MIGR_PRIORITY_LOW
                                ? "quick" : "live"));
    const struct vmroamrec_migration *m = migr_row_queue(
        idl, txn, policy_db_vm(idl, v->name), v->chassis, dst, true,
        &options, at);
    smap_destroy(&options);
    return m;
}

static const struct vmroamrec_plan *
new_plan(const struct request *r, struct ovsdb_idl_txn *txn)
{
    const struct vmroamrec_plan *p = vmroamrec_plan_insert(txn);
    vmroamrec_plan_set_kind(p, r->kind);
    vmroamrec_plan_set_target(p, r->target);
    vmroamrec_plan_set_to_footprint(p, r->to_footprint);
    vmroamrec_plan_update_timestamps_setkey(p, "created", time_wall_msec());
    return p;
}

/* Plans, in 'txn', a destination for every VM on the hosts 'r' empties
 * that is not moving already, and queues its migration; keeps the items of
 * an open plan of the same target whose VMs moved or are moving. */
static bool
build_plan(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *r_)
{
    struct request *r = r_;
    const bool dry = r->ctx->dry_run;
    struct migr_candidates c;
    migr_candidates_read(idl, &c);
    mark_targets(r, idl, &c);

    struct migr_placement_vm *vms = xcalloc(sset_count(r->vms) + 1,
                                            sizeof *vms);
    size_t n = read_vms(r, idl, &c, vms);
    struct migr_plan_entry *entries = xcalloc(n + 1, sizeof *entries);
    struct migr_placement_rules rules = {
        .headroom_pct = r->headroom_pct, .footprint = r->to_footprint,
    };
    migr_plan(vms, n, c.hosts, c.n, &rules, entries);

    const struct vmroamrec_plan *p = open_plan(r, idl);
    if (!p && !dry) {
        p = new_plan(r, txn);
    }
    struct vmroamrec_plan_item **items;
    size_t n_items = kept_items(p, vms, n, &items);
    bool assumed;
    long long int rate = measured_rate(idl, &assumed);
    table_destroy(&r->table);
    init_table(&r->table, "");

    /* In the order migr_plan placed them in (priority, then size): so the
     * operator reads them, and so each source's queue holds them. */
    size_t *by_rank = xmalloc((n + 1) * sizeof *by_rank);
    for (size_t i = 0; i < n; i++) {
        by_rank[entries[i].rank] = i;
    }
    long long int now = time_wall_msec();
    for (size_t k = 0; k < n; k++) {
        size_t i = by_rank[k];
        const struct migr_plan_entry *e = &entries[i];
        bool placed = e->host != MIGR_PLACE_NONE;
        const struct vmroamrec_plan_item *it
            = write_item(txn, &vms[i], e, &c, placed ? NULL : e->why);
        if (placed) {
            vmroamrec_plan_item_set_migration(
                it, queue(r, idl, txn, &vms[i], c.hosts[e->host].name,
                          now + e->wave * 1000 + (long long int) e->rank));
        }
        add_row(&r->table, it, rate, (!placed ? "blocked"
                                      : dry ? "planned" : "queued"));
        items[n_items++] = CONST_CAST(struct vmroamrec_plan_item *, it);
        free(e->why);
    }
    if (p) {
        vmroamrec_plan_set_items(p, items, n_items);
    }
    table_set_caption(&r->table, xasprintf(
        "%s of %s%s%s: %"PRIuSIZE" VM%s to move (estimates at %lld MiB/s%s)",
        r->kind, r->target, r->to_footprint ? " to footprint " : "",
        r->to_footprint ? r->to_footprint : "", n, n == 1 ? "" : "s",
        rate >> 20, assumed ? ", assumed: no migration has finished yet"
                            : ", measured"));

    free(by_rank);
    free(items);
    free(entries);
    free(vms);
    migr_candidates_destroy(&c);
    return !dry;
}

static const struct vmroamrec_plan *
find_plan(struct ovsdb_idl *idl, const char *id)
{
    const struct vmroamrec_plan *p;
    VMROAMREC_PLAN_FOR_EACH (p, idl) {
        if (strlen(id) >= 4 && vmroam_id_matches(&p->header_.uuid, id)) {
            return p;
        }
    }
    return NULL;
}

/* One line of a plan's progress. */
static char *
progress(const struct vmroamrec_plan *p)
{
    size_t counts[MIGR_N_ITEM_STATES];
    count_items(p, counts);
    struct ds s = DS_EMPTY_INITIALIZER;
    char *id = vmroam_short_id(&p->header_.uuid);
    ds_put_format(&s, "plan %s (%s of %s): %s", id, p->kind, p->target,
                  migr_plan_state(counts, p->cancel_requested));
    free(id);
    for (int i = 0; i < MIGR_N_ITEM_STATES; i++) {
        if (counts[i]) {
            ds_put_format(&s, ", %"PRIuSIZE" %s", counts[i],
                          migr_item_state_name(i));
        }
    }
    return ds_steal_cstr(&s);
}

/* Follows plan 'uuid' until it is over, printing its progress when it
 * changes.  Returns 0 if every VM moved, 1 otherwise. */
static int
follow(struct policy_db *db, const struct uuid *uuid)
{
    char *last = NULL;
    for (;;) {
        ovsdb_idl_run(db->idl);
        const struct vmroamrec_plan *p
            = vmroamrec_plan_get_for_uuid(db->idl, uuid);
        if (!p) {
            fprintf(stderr, "vmroam: the plan disappeared\n");
            free(last);
            return VMROAM_EXIT_FAILURE;
        }
        char *now = progress(p);
        if (!last || strcmp(now, last)) {
            puts(now);
            fflush(stdout);
        }
        free(last);
        last = now;
        size_t counts[MIGR_N_ITEM_STATES];
        count_items(p, counts);
        if (migr_plan_is_over(counts)) {
            free(last);
            for (size_t i = 0; i < p->n_items; i++) {
                const struct vmroamrec_plan_item *it = p->items[i];
                const struct vmroamrec_migration *m = it->migration;
                if (!m || migr_row_state(m) != MIGR_DONE) {
                    printf("  %s did not move: %s\n", it->vm,
                           it->cause ? it->cause
                           : m && m->error ? m->error : "its migration ended");
                }
            }
            return (!strcmp(migr_plan_state(counts, p->cancel_requested),
                            "done") ? VMROAM_EXIT_OK : VMROAM_EXIT_FAILURE);
        }
        ovsdb_idl_wait(db->idl);
        poll_timer_wait(1000);
        poll_block();
    }
}

/* Runs drain or evacuation 'r': finds the VMs, plans and queues them in
 * one transaction, shows the plan, and follows it with --wait. */
static int
run_plan(struct request *r)
{
    const struct vmroam_ctx *ctx = r->ctx;
    struct sset vms = SSET_INITIALIZER(&vms);
    struct sset none = SSET_INITIALIZER(&none);
    struct policy_db *db = vmroam_connect_scoped(ctx, plan_tables, &none);
    bool found = db && find_vms(r, db->idl, &vms);
    policy_db_close(db);
    if (!found) {
        sset_destroy(&vms);
        return db ? VMROAM_EXIT_BAD_INPUT : VMROAM_EXIT_FAILURE;
    }

    /* Again, now with the lookup records of those VMs, which their
     * migrations mark. */
    db = vmroam_connect_scoped(ctx, plan_tables, &vms);
    if (!db) {
        sset_destroy(&vms);
        return VMROAM_EXIT_FAILURE;
    }
    r->vms = &vms;
    init_table(&r->table, "");
    char *error = NULL;
    int status;
    if (!policy_db_transact(db, build_plan, r, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        status = VMROAM_EXIT_FAILURE;
    } else {
        vmroam_print_table(ctx, &r->table);
        init_table(&r->table, "");
        if (ctx->dry_run) {
            printf("nothing was changed (dry run)\n");
            status = VMROAM_EXIT_OK;
        } else {
            const struct vmroamrec_plan *p = open_plan(r, db->idl);
            status = (!p ? VMROAM_EXIT_OK
                      : ctx->wait ? follow(db, &p->header_.uuid)
                      : VMROAM_EXIT_OK);
            if (p && !ctx->wait) {
                char *line = progress(p);
                printf("%s (vmroam plan show, --wait to follow)\n", line);
                free(line);
            }
        }
    }
    table_destroy(&r->table);
    policy_db_close(db);
    sset_destroy(&vms);
    return status;
}

/* The options drains and evacuations share. */
static bool
plan_opts(const struct vmroam_ctx *ctx, struct request *r)
{
    long long int headroom = MIGR_HEADROOM_DEFAULT;
    bool ok = vmroam_number_opt(ctx, "headroom", 0, 90, &headroom);
    r->headroom_pct = headroom;
    r->quick_low = smap_get_bool(&ctx->opts, "quick-low", false);
    return ok;
}

static int
host_drain_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
               char *argv[])
{
    struct request r = {
        .ctx = ctx, .kind = "drain", .target = argv[0],
        .to_footprint = smap_get(&ctx->opts, "to-footprint"),
    };
    return plan_opts(ctx, &r) ? run_plan(&r) : VMROAM_EXIT_BAD_INPUT;
}

static int
footprint_evacuate_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                       char *argv[])
{
    struct request r = {
        .ctx = ctx, .kind = "evacuate", .target = argv[0],
        .to_footprint = smap_get(&ctx->opts, "to"),
    };
    if (!r.to_footprint || !strcmp(r.to_footprint, r.target)) {
        fprintf(stderr, "vmroam footprint evacuate: give --to NEW, another "
                "footprint\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    return plan_opts(ctx, &r) ? run_plan(&r) : VMROAM_EXIT_BAD_INPUT;
}

static bool
build_cancel(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
             void *id_)
{
    const struct vmroamrec_plan *p = find_plan(idl, id_);
    if (!p) {
        return false;
    }
    vmroamrec_plan_set_cancel_requested(p, true);
    for (size_t i = 0; i < p->n_items; i++) {
        const struct vmroamrec_migration *m = p->items[i]->migration;
        if (m && migr_row_state(m) == MIGR_QUEUED) {
            vmroamrec_migration_verify_state(m);
            vmroamrec_migration_set_cancel_requested(m, true);
        }
    }
    return true;
}

static int
cancel_plan(const struct vmroam_ctx *ctx, struct policy_db *db,
            const char *id)
{
    if (!find_plan(db->idl, id)) {
        fprintf(stderr, "vmroam: no plan %s (vmroam plans lists them)\n", id);
        return VMROAM_EXIT_BAD_INPUT;
    }
    char *error = NULL;
    if (!policy_db_transact(db, build_cancel, CONST_CAST(char *, id),
                            &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        return VMROAM_EXIT_FAILURE;
    }
    const struct vmroamrec_plan *p = find_plan(db->idl, id);
    printf("plan %s cancelled: its queued migrations are cancelled, those "
           "under way finish\n", id);
    return ctx->wait && p ? follow(db, &p->header_.uuid) : VMROAM_EXIT_OK;
}

static int
plans_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
          char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect_scoped(ctx, plan_tables, NULL);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    const char *cancel = smap_get(&ctx->opts, "cancel");
    int status = VMROAM_EXIT_OK;
    if (cancel) {
        status = cancel_plan(ctx, db, cancel);
    } else {
        static const char *const columns[] = {
            "id", "kind", "target", "to", "state", "vms", "created",
        };
        struct table t;
        table_init(&t);
        table_set_caption(&t, xstrdup("Plans"));
        for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
            table_add_column(&t, "%s", columns[i]);
        }
        const struct vmroamrec_plan *p;
        VMROAMREC_PLAN_FOR_EACH (p, db->idl) {
            size_t counts[MIGR_N_ITEM_STATES];
            count_items(p, counts);
            table_add_row(&t);
            vmroam_cell_nocopy(&t, vmroam_short_id(&p->header_.uuid));
            vmroam_cell(&t, p->kind);
            vmroam_cell(&t, p->target);
            vmroam_cell(&t, p->to_footprint ? p->to_footprint : "-");
            vmroam_cell(&t, migr_plan_state(counts, p->cancel_requested));
            vmroam_cell_nocopy(&t, xasprintf("%"PRIuSIZE" of %"PRIuSIZE
                                             " moved",
                                             counts[MIGR_ITEM_DONE],
                                             p->n_items));
            int64_t created = 0;
            for (size_t i = 0; i < p->n_timestamps; i++) {
                if (!strcmp(p->key_timestamps[i], "created")) {
                    created = p->value_timestamps[i];
                }
            }
            vmroam_cell_nocopy(&t, xastrftime_msec("%Y-%m-%d %H:%M:%S",
                                                   created, true));
        }
        vmroam_print_table(ctx, &t);
    }
    policy_db_close(db);
    return status;
}

static int
plan_show_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
              char *argv[])
{
    struct policy_db *db = vmroam_connect_scoped(ctx, plan_tables, NULL);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    const struct vmroamrec_plan *p = find_plan(db->idl, argv[0]);
    int status = VMROAM_EXIT_OK;
    if (!p) {
        fprintf(stderr, "vmroam: no plan %s (vmroam plans lists them)\n",
                argv[0]);
        status = VMROAM_EXIT_BAD_INPUT;
    } else if (ctx->wait) {
        status = follow(db, &p->header_.uuid);
    } else {
        struct table t;
        char *caption = progress(p);
        init_table(&t, caption);
        free(caption);
        bool assumed;
        long long int rate = measured_rate(db->idl, &assumed);
        for (size_t i = 0; i < p->n_items; i++) {
            const struct vmroamrec_plan_item *it = p->items[i];
            const struct vmroamrec_migration *m = it->migration;
            enum migr_item_state s = migr_item_state(
                m != NULL, m ? migr_row_state(m) : 0);
            char *state = (m && m->error
                           ? xasprintf("%s (%s)", migr_item_state_name(s),
                                       m->error)
                           : xstrdup(migr_item_state_name(s)));
            add_row(&t, it, rate, state);
            free(state);
        }
        vmroam_print_table(ctx, &t);
    }
    policy_db_close(db);
    return status;
}

const struct vmroam_command vmroam_plan_commands[] = {
    {.name = "host drain",
     .args = "HOST [--to-footprint F] [--headroom PCT] [--quick-low] "
             "[--dry-run] [--wait]",
     .summary = "put HOST in maintenance and move every VM off it, as a "
                "plan (rerun to resume it)",
     .options = "to-footprint headroom quick-low dry-run wait",
     .min_args = 1, .max_args = 1, .run = host_drain_cmd},
    {.name = "footprint evacuate",
     .args = "OLD --to NEW [--headroom PCT] [--quick-low] [--dry-run] "
             "[--wait]",
     .summary = "move every VM of footprint OLD's hosts to hosts of NEW, as "
                "a plan (rerun to resume it)",
     .options = "to headroom quick-low dry-run wait",
     .min_args = 1, .max_args = 1, .run = footprint_evacuate_cmd},
    {.name = "plans",
     .args = "[--cancel ID [--wait]] [--format table|json]",
     .summary = "the drains and evacuations, and where they stand; "
                "--cancel stops a plan's queued migrations",
     .options = "cancel format wait",
     .min_args = 0, .max_args = 0, .run = plans_cmd},
    {.name = "plan show",
     .args = "ID [--wait] [--format table|json]",
     .summary = "a plan's VMs: destination, wave, estimate, state and "
                "cause; --wait follows it to its end",
     .options = "format wait",
     .min_args = 1, .max_args = 1, .run = plan_show_cmd},
    {.name = NULL},
};
