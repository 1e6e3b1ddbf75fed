/* "vmroam migrate ...", "vmroam migrations": queue migrations, follow
 * them, cancel them. */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/vmroam.h"
#include "migrator/candidates.h"
#include "migrator/compress.h"
#include "migrator/fsm.h"
#include "migrator/placement.h"
#include "migrator/row.h"
#include "migrator/storage.h"
#include "migrator/version.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "overlay/chassis.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

static bool
vm_is_migrating(struct ovsdb_idl *idl, const char *vm)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (!strcmp(m->vm, vm) && !migr_state_is_final(migr_row_state(m))) {
            return true;
        }
    }
    return false;
}

/* The host that placement picks for 'vm', of every host as the database
 * shows it, or NULL; with every candidate's line in 'why'. */
static const struct vmroamrec_chassis *
best_host(struct ovsdb_idl *idl, const struct vmroamrec_vm *vm,
          const struct vmroamrec_chassis *src, struct ds *why)
{
    struct migr_candidates c;
    migr_candidates_read(idl, &c);
    struct migr_placement_vm v;
    migr_placement_vm_read(vm, src, &v);
    struct migr_placement_rules rules = {
        .headroom_pct = MIGR_HEADROOM_DEFAULT,
    };
    size_t best = migr_place(&v, c.hosts, c.n, &rules, why);
    const struct vmroamrec_chassis *chosen = (best == MIGR_PLACE_NONE ? NULL
                                              : c.rows[best]);
    migr_candidates_destroy(&c);
    return chosen;
}

/* What the migration commands read and write: never the lookup records,
 * of which there may be a million. */
static const struct ovsdb_idl_table_class *const migration_tables[] = {
    &vmroamrec_table_migration, &vmroamrec_table_vm, &vmroamrec_table_chassis,
    &vmroamrec_table_chassis_private, &vmroamrec_table_provider_subnet, NULL,
};

/* Those, and the lookup records of the VM being migrated. */
static const struct ovsdb_idl_table_class *const migrate_tables[] = {
    &vmroamrec_table_migration, &vmroamrec_table_vm, &vmroamrec_table_chassis,
    &vmroamrec_table_chassis_private, &vmroamrec_table_provider_subnet,
    &vmroamrec_table_lookup_record, NULL,
};

/* A migration request, checked and queued in one transaction. */
struct request {
    const struct vmroam_ctx *ctx;
    const char *vm_name;
    const char *to;             /* NULL with --best. */
    const char *storage;
    long long int bandwidth;    /* MiB/s, or -1 for no cap. */
    long long int max_downtime; /* ms, or -1 for the source's default. */
    long long int streams;      /* Memory connections, or -1 for the
                                 * default. */
    bool plain;                 /* Not through the channel. */
    const char *compression;    /* Or NULL for the source's default. */
    const char *switchover;     /* "resume" or "completion". */
    const char *mode;           /* "live" or "quick". */
    int status;
    char *error;
    struct ds why;
    struct uuid uuid;           /* Of the inserted row (temporary). */
    const struct vmroamrec_migration *row;
    char *source, *destination;
};

static bool
build_migrate(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *r_)
{
    struct request *r = r_;
    free(r->error);
    r->error = NULL;
    ds_clear(&r->why);
    r->status = VMROAM_EXIT_BAD_INPUT;

    const struct vmroamrec_vm *vm = policy_db_vm(idl, r->vm_name);
    const struct vmroamrec_chassis *src = (vm && vm->chassis
                                           ? policy_db_chassis(idl, vm->chassis)
                                           : NULL);
    const struct vmroamrec_chassis *dst = (r->to ? policy_db_chassis(idl, r->to)
                                           : NULL);
    if (!vm) {
        r->error = xasprintf("no VM named %s (vmroam host list shows the "
                             "hosts; their agents report the VMs)",
                             r->vm_name);
        return false;
    }
    if (!src) {
        r->error = xasprintf("VM %s runs on no known host", r->vm_name);
        r->status = VMROAM_EXIT_FAILURE;
        return false;
    }
    char *down;
    if (overlay_chassis_is_down(idl, src->name, time_wall_msec(), &down)) {
        r->error = xasprintf("VM %s cannot leave: %s", r->vm_name, down);
        r->status = VMROAM_EXIT_FAILURE;
        free(down);
        return false;
    }
    /* Two requests for one VM at once: both write its migration column,
     * so the later commit fails, is rebuilt and sees the first. */
    vmroamrec_vm_verify_migration(vm);
    if (vm_is_migrating(idl, r->vm_name)) {
        r->error = xasprintf("VM %s is already being migrated (see vmroam "
                             "migrations)", r->vm_name);
        r->status = VMROAM_EXIT_FAILURE;
        return false;
    }
    if (r->to) {
        if (!dst) {
            r->error = xasprintf("no host named %s", r->to);
            return false;
        }
        if (dst == src) {
            r->error = xasprintf("VM %s already runs on %s", r->vm_name,
                                 r->to);
            return false;
        }
        if (dst->maintenance) {
            r->error = xasprintf("host %s is in maintenance: no VM may "
                                 "arrive (vmroam host set %s --maintenance "
                                 "off)", r->to, r->to);
            r->status = VMROAM_EXIT_FAILURE;
            return false;
        }
        if (overlay_chassis_is_down(idl, r->to, time_wall_msec(),
                                    &r->error)) {
            r->status = VMROAM_EXIT_FAILURE;
            return false;
        }
        r->error = migr_check_versions(src->name, &src->versions, dst->name,
                                       &dst->versions);
        if (r->error) {
            r->status = VMROAM_EXIT_FAILURE;
            return false;
        }
    } else {
        dst = best_host(idl, vm, src, &r->why);
        if (!dst) {
            r->error = xasprintf("no host can take VM %s:\n%s", r->vm_name,
                                 ds_cstr(&r->why));
            r->status = VMROAM_EXIT_FAILURE;
            return false;
        }
    }

    free(r->source);
    free(r->destination);
    r->source = xstrdup(src->name);
    r->destination = xstrdup(dst->name);
    r->status = VMROAM_EXIT_OK;
    if (r->ctx->dry_run) {
        return false;
    }

    struct smap options = SMAP_INITIALIZER(&options);
    smap_add(&options, "storage", r->storage);
    if (r->bandwidth > 0) {
        smap_add_format(&options, "bandwidth", "%lld", r->bandwidth);
    }
    if (r->max_downtime > 0) {
        smap_add_format(&options, "max-downtime-ms", "%lld", r->max_downtime);
    }
    if (r->streams > 0) {
        smap_add_format(&options, "streams", "%lld", r->streams);
    }
    if (r->plain) {
        smap_add(&options, "plain", "true");
    }
    if (r->compression) {
        smap_add(&options, "compression", r->compression);
    }
    smap_add(&options, "switchover", r->switchover);
    smap_add(&options, "mode", r->mode);
    r->row = migr_row_queue(idl, txn, vm, src->name, dst->name, !r->to,
                            &options, time_wall_msec());
    smap_destroy(&options);
    return true;
}

static const struct vmroamrec_migration *
find_migration(struct ovsdb_idl *idl, const char *id)
{
    const struct vmroamrec_migration *m, *found = NULL;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (vmroam_id_matches(&m->header_.uuid, id)) {
            found = m;
        }
    }
    return found;
}

/* Prints one progress line (over itself on a terminal). */
static void
print_progress(const struct vmroamrec_migration *m, bool tty)
{
    int64_t started = migr_row_timestamp(m, "started");
    int64_t processed = migr_row_stat(m, "bytes_processed");
    double secs = started ? (time_wall_msec() - started) / 1000.0 : 0;
    double mbps = secs > 0 ? processed / 1e6 / secs : 0;
    int width = 30, filled = m->progress * width / 100;

    printf("%s%-12s [%.*s%*s] %3"PRId64"%%  %7.1f MB/s  iteration %"PRId64
           "%s", tty ? "\r" : "", m->state, filled,
           "##############################", width - filled, "",
           m->progress, mbps, migr_row_stat(m, "iteration"), tty ? "" : "\n");
    fflush(stdout);
}

static void
print_summary(const struct vmroamrec_migration *m)
{
    int64_t queued = migr_row_timestamp(m, "queued");
    int64_t finished = migr_row_timestamp(m, "finished");
    int64_t started = migr_row_timestamp(m, "started");
    printf("migration of %s from %s to %s: %s\n", m->vm, m->source,
           m->destination ? m->destination : "?", m->state);
    if (m->error) {
        printf("  reason: %s\n", m->error);
    }
    printf("  total %.2f s (queued %.2f s), downtime %"PRId64" ms, "
           "%.1f MB transferred, %"PRId64" iterations\n",
           finished && started ? (finished - started) / 1000.0 : 0,
           started && queued ? (started - queued) / 1000.0 : 0,
           migr_row_stat(m, "downtime_ms"),
           migr_row_stat(m, "bytes_processed") / 1e6,
           migr_row_stat(m, "iteration"));
    int64_t in = migr_row_stat(m, "channel_bytes_in");
    int64_t wire = migr_row_stat(m, "channel_bytes_wire");
    if (in) {
        printf("  channel: %"PRId64" stream%s, %.1f MB from QEMU, %.1f MB "
               "on the wire (ratio %.2f), mutual TLS, %.2f CPU s on %s\n",
               migr_row_stat(m, "channel_streams"),
               migr_row_stat(m, "channel_streams") == 1 ? "" : "s",
               in / 1e6, wire / 1e6, wire ? (double) in / wire : 0,
               migr_row_stat(m, "channel_cpu_ms") / 1e3, m->source);
    } else if (smap_get_bool(&m->options, "plain", false)) {
        printf("  hypervisor's own path (--plain): unencrypted\n");
    }
}

/* Follows migration 'uuid' until it ends.  Returns the exit status. */
static int
follow(struct policy_db *db, const struct uuid *uuid)
{
    bool tty = isatty(STDOUT_FILENO);
    char *last = NULL;
    long long int lost = 0;     /* Since when the database is gone. */

    for (;;) {
        ovsdb_idl_run(db->idl);
        if (ovsdb_idl_is_connected(db->idl)) {
            lost = 0;
        } else if (!lost) {
            lost = time_msec();
        } else if (time_msec() - lost > db->timeout_ms) {
            fprintf(stderr, "\nvmroam: lost the database %s for %d s; the "
                    "migration goes on without us (vmroam migrations shows "
                    "it)\n", db->remote, db->timeout_ms / 1000);
            free(last);
            return VMROAM_EXIT_FAILURE;
        }
        const struct vmroamrec_migration *m
            = vmroamrec_migration_get_for_uuid(db->idl, uuid);
        if (!m) {
            fprintf(stderr, "vmroam: the migration disappeared\n");
            return VMROAM_EXIT_FAILURE;
        }
        char *now = xasprintf("%s %"PRId64" %"PRId64, m->state, m->progress,
                              migr_row_stat(m, "iteration"));
        if (!last || strcmp(now, last) || tty) {
            print_progress(m, tty);
        }
        free(last);
        last = now;
        if (migr_state_is_final(migr_row_state(m))) {
            if (tty) {
                putchar('\n');
            }
            print_summary(m);
            free(last);
            return (migr_row_state(m) == MIGR_DONE ? VMROAM_EXIT_OK
                    : VMROAM_EXIT_FAILURE);
        }
        ovsdb_idl_wait(db->idl);
        poll_timer_wait(tty ? 200 : 1000);
        poll_block();
    }
}

struct cancel {
    const char *id;
    int status;
    char *error;
    char *vm;
};

static bool
build_cancel(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
             void *c_)
{
    struct cancel *c = c_;
    free(c->error);
    free(c->vm);
    c->error = c->vm = NULL;

    const struct vmroamrec_migration *m = find_migration(idl, c->id);
    if (!m) {
        c->error = xasprintf("no migration %s (vmroam migrations lists "
                             "them)", c->id);
        c->status = VMROAM_EXIT_BAD_INPUT;
        return false;
    }
    c->vm = xstrdup(m->vm);
    if (migr_state_is_final(migr_row_state(m))
        || migr_state_vm_on_destination(migr_row_state(m))) {
        c->error = xasprintf("migration %s of %s is %s: too late to cancel",
                             c->id, m->vm, m->state);
        c->status = VMROAM_EXIT_FAILURE;
        return false;
    }
    vmroamrec_migration_verify_state(m);
    vmroamrec_migration_set_cancel_requested(m, true);
    c->status = VMROAM_EXIT_OK;
    return true;
}

static int
cancel_migration(const struct vmroam_ctx *ctx, const char *id)
{
    struct policy_db *db = vmroam_connect_tables(ctx, migration_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct cancel c = { .id = id };
    char *error = NULL;
    int status = VMROAM_EXIT_FAILURE;
    if (!policy_db_transact(db, build_cancel, &c, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
    } else if (c.status) {
        fprintf(stderr, "vmroam: %s\n", c.error);
        status = c.status;
    } else {
        printf("cancel requested for migration %s of %s\n", id, c.vm);
        const struct vmroamrec_migration *m = find_migration(db->idl, id);
        status = (ctx->wait && m ? follow(db, &m->header_.uuid)
                  : VMROAM_EXIT_OK);
        if (ctx->wait && status == VMROAM_EXIT_FAILURE && m
            && migr_row_state(m) == MIGR_CANCELLED) {
            status = VMROAM_EXIT_OK;
        }
    }
    free(c.error);
    free(c.vm);
    policy_db_close(db);
    return status;
}

static int
report_dry_run(const struct request *r, const char *storage)
{
    printf("would queue: %s from %s to %s (storage %s); nothing was changed "
           "(dry run)\n", r->vm_name, r->source, r->destination, storage);
    return VMROAM_EXIT_OK;
}

/* Says which migration 'r' queued and follows it with --wait. */
static int
report_queued(const struct vmroam_ctx *ctx, struct policy_db *db,
              const struct request *r, const char *storage)
{
    /* The row has its permanent UUID now: the VM row names it (the same
     * transaction set it), even if it has ended already. */
    const struct vmroamrec_vm *vm = policy_db_vm(db->idl, r->vm_name);
    const struct vmroamrec_migration *m = vm ? vm->migration : NULL;
    struct uuid uuid = m ? m->header_.uuid : UUID_ZERO;
    char *id = vmroam_short_id(&uuid);
    printf("migration %s queued: %s from %s to %s (storage %s)\n",
           id, r->vm_name, r->source, r->destination, storage);
    free(id);
    return ctx->wait && m ? follow(db, &uuid) : VMROAM_EXIT_OK;
}

static int
migrate_cmd(const struct vmroam_ctx *ctx, int argc, char *argv[])
{
    const char *cancel = smap_get(&ctx->opts, "cancel");
    if (cancel && ctx->dry_run) {
        fprintf(stderr, "vmroam migrate: --cancel takes no --dry-run: it "
                "only asks, and a migration may end before it is seen\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (cancel && !argc) {
        return cancel_migration(ctx, cancel);
    }
    if (cancel || !argc) {
        fprintf(stderr, "vmroam migrate: give a VM (vmroam migrate VM --to "
                "HOST) or --cancel ID, not both\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    const char *to = smap_get(&ctx->opts, "to");
    bool best = smap_get_bool(&ctx->opts, "best", false);
    const char *storage = smap_get_def(&ctx->opts, "storage", "auto");
    if (!!to == best) {
        fprintf(stderr, "vmroam migrate: give exactly one of --to HOST and "
                "--best\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    long long int bandwidth = -1, max_downtime = -1, streams = -1;
    if (!vmroam_number_opt(ctx, "bandwidth", 1, INT_MAX, &bandwidth)
        || !vmroam_number_opt(ctx, "max-downtime", 1, 600000, &max_downtime)
        || !vmroam_number_opt(ctx, "streams", 1, 64, &streams)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    enum migr_storage_mode mode_storage;
    if (!migr_storage_mode_parse(storage, &mode_storage)) {
        fprintf(stderr, "vmroam migrate: --storage: %s is not auto, copy or "
                "shared\n", storage);
        return VMROAM_EXIT_BAD_INPUT;
    }
    const char *compression = smap_get(&ctx->opts, "compression");
    enum migr_compress_mode cmode;
    if (compression && !migr_compress_mode_parse(compression, &cmode)) {
        fprintf(stderr, "vmroam migrate: --compression: %s is not auto, lz4 "
                "or none\n", compression);
        return VMROAM_EXIT_BAD_INPUT;
    }
    const char *switchover = smap_get_def(&ctx->opts, "switchover", "resume");
    if (strcmp(switchover, "resume") && strcmp(switchover, "completion")) {
        fprintf(stderr, "vmroam migrate: --switchover: %s is not resume or "
                "completion\n", switchover);
        return VMROAM_EXIT_BAD_INPUT;
    }

    const char *mode = smap_get_def(&ctx->opts, "mode", "live");
    if (strcmp(mode, "live") && strcmp(mode, "quick")) {
        fprintf(stderr, "vmroam migrate: --mode: %s is not live or quick\n",
                mode);
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (!strcmp(mode, "quick") && mode_storage == MIGR_STORAGE_COPY) {
        fprintf(stderr, "vmroam migrate: --mode quick moves the VM's saved "
                "state through storage both hosts see: it takes no "
                "--storage copy\n");
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct sset records_of = SSET_INITIALIZER(&records_of);
    sset_add(&records_of, argv[0]);
    struct policy_db *db = vmroam_connect_scoped(ctx, migrate_tables,
                                                 &records_of);
    sset_destroy(&records_of);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct request r = {
        .ctx = ctx, .vm_name = argv[0], .to = to, .storage = storage,
        .bandwidth = bandwidth, .max_downtime = max_downtime,
        .streams = streams, .plain = smap_get_bool(&ctx->opts, "plain", false),
        .compression = compression,
        .switchover = switchover,
        .mode = mode,
        .why = DS_EMPTY_INITIALIZER,
    };
    char *error = NULL;
    int status;
    if (!policy_db_transact(db, build_migrate, &r, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        status = VMROAM_EXIT_FAILURE;
    } else if (r.status) {
        fprintf(stderr, "vmroam: %s\n", r.error);
        status = r.status;
    } else {
        if (best) {
            printf("best host for %s: %s, of:\n%s", r.vm_name, r.destination,
                   ds_cstr(&r.why));
        }
        status = (ctx->dry_run ? report_dry_run(&r, storage)
                  : report_queued(ctx, db, &r, storage));
    }
    free(r.error);
    free(r.source);
    free(r.destination);
    ds_destroy(&r.why);
    policy_db_close(db);
    return status;
}

static int
compare_queued(const void *a_, const void *b_)
{
    const struct vmroamrec_migration *const *a = a_, *const *b = b_;
    int64_t qa = migr_row_timestamp(*a, "queued"), qb = migr_row_timestamp(*b, "queued");
    return qa < qb ? -1 : qa > qb;
}

/* Throughput, the channel's streams, wire bytes, ratio (QEMU's bytes per
 * wire byte) and CPU seconds on the source, and when it started. */
static void
channel_cells(struct table *t, const struct vmroamrec_migration *m)
{
    int64_t started = migr_row_timestamp(m, "started");
    int64_t finished = migr_row_timestamp(m, "finished");
    int64_t end = finished ? finished : time_wall_msec();
    double secs = started && end > started ? (end - started) / 1000.0 : 0;
    int64_t in = migr_row_stat(m, "channel_bytes_in");
    int64_t wire = migr_row_stat(m, "channel_bytes_wire");
    vmroam_cell_nocopy(t, xasprintf("%.1f", secs ? migr_row_stat(
                                        m, "bytes_processed") / 1e6 / secs
                                    : 0));
    vmroam_cell_nocopy(t, xasprintf("%"PRId64,
                                    migr_row_stat(m, "channel_streams")));
    vmroam_cell_nocopy(t, xasprintf("%.1f", wire / 1e6));
    vmroam_cell_nocopy(t, wire ? xasprintf("%.2f", (double) in / wire)
                       : xstrdup("-"));
    vmroam_cell_nocopy(t, wire ? xasprintf("%.2f", migr_row_stat(
                                               m, "channel_cpu_ms") / 1e3)
                       : xstrdup("-"));
    vmroam_cell_nocopy(t, started ? xastrftime_msec("%Y-%m-%dT%H:%M:%S",
                                                    started, true)
                       : xstrdup("-"));
}

static void
list_migrations(const struct vmroam_ctx *ctx, struct ovsdb_idl *idl)
{
    static const char *const columns[] = {
        "id", "vm", "source", "destination", "storage", "state", "progress",
        "iteration", "downtime", "MB", "MB/s", "streams", "wire MB", "ratio",
        "CPU s", "started", "error"
    };
    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("Migrations"));
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        table_add_column(&t, "%s", columns[i]);
    }

    size_t n = 0;
    const struct vmroamrec_migration *m, **all = NULL;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        all = xrealloc(all, (n + 1) * sizeof *all);
        all[n++] = m;
    }
    if (n > 1) {
        qsort(all, n, sizeof *all, compare_queued);
    }
    for (size_t i = 0; i < n; i++) {
        m = all[i];
        table_add_row(&t);
        vmroam_cell_nocopy(&t, vmroam_short_id(&m->header_.uuid));
        vmroam_cell(&t, m->vm);
        vmroam_cell(&t, m->source);
        vmroam_cell(&t, m->destination ? m->destination : "-");
        vmroam_cell(&t, m->storage ? m->storage
                        : smap_get_def(&m->options, "storage", "auto"));
        vmroam_cell(&t, m->state);
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64"%%", m->progress));
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64,
                                         migr_row_stat(m, "iteration")));
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64" ms",
                                         migr_row_stat(m, "downtime_ms")));
        vmroam_cell_nocopy(&t, xasprintf(
            "%.1f", migr_row_stat(m, "bytes_processed") / 1e6));
        channel_cells(&t, m);
        vmroam_cell(&t, m->error);
    }
    free(all);
    vmroam_print_table(ctx, &t);
}

static bool
all_final(struct ovsdb_idl *idl)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (!migr_state_is_final(migr_row_state(m))) {
            return false;
        }
    }
    return true;
}

static int
migrations_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
               char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect_tables(ctx, migration_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    bool watch = smap_get_bool(&ctx->opts, "watch", false);
    bool tty = isatty(STDOUT_FILENO);
    for (;;) {
        if (watch && tty) {
            fputs("\033[H\033[2J", stdout);
        }
        list_migrations(ctx, db->idl);
        fflush(stdout);
        if (!watch || all_final(db->idl)) {
            break;
        }
        unsigned int seqno = ovsdb_idl_get_seqno(db->idl);
        while (seqno == ovsdb_idl_get_seqno(db->idl)) {
            ovsdb_idl_run(db->idl);
            ovsdb_idl_wait(db->idl);
            poll_timer_wait(1000);
            poll_block();
        }
    }
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

const struct vmroam_command vmroam_migrate_commands[] = {
    {.name = "migrate",
     .args = "VM (--to HOST | --best) [--storage auto|copy|shared] "
             "[--bandwidth MIBPS] [--max-downtime MS] "
             "[--switchover resume|completion] [--streams N] "
             "[--compression auto|lz4|none] [--plain] [--mode live|quick] "
             "[--wait] [--dry-run]",
     .summary = "live-migrate a VM to a host on any subnet; --cancel ID to "
                "cancel one",
     .options = "to best storage bandwidth max-downtime switchover streams "
                "compression plain mode wait cancel dry-run",
     .min_args = 0, .max_args = 1, .run = migrate_cmd},
    {.name = "migrations",
     .args = "[--watch] [--format table|json]",
     .summary = "every migration: phase, progress, result",
     .options = "watch format",
     .min_args = 0, .max_args = 0, .run = migrations_cmd},
    {.name = NULL},
};
