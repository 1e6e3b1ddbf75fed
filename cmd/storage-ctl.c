/* "vmroam storage move VM --to DIR": moves a running VM's disks to another
 * directory of its host while it runs (migrator/blockcopy.h). */

#include <config.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/vmroam.h"
#include "migrator/blockcopy.h"
#include "migrator/row.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "util.h"

/* What the command reads: where the VM runs, whether it is migrating, and
 * that host's libvirt URI. */
static const struct ovsdb_idl_table_class *const storage_tables[] = {
    &vmroamrec_table_vm, &vmroamrec_table_chassis,
    &vmroamrec_table_migration, NULL,
};

/* What the database says about the VM to move. */
struct target {
    char *host;
    char *uri;
};

/* Finds where VM 'name' runs and how to reach that host's libvirt.
 * Returns an exit status, having said why on failure. */
static int
find_target(const struct vmroam_ctx *ctx, const char *name, struct target *t)
{
    struct policy_db *db = vmroam_connect_tables(ctx, storage_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    int status = VMROAM_EXIT_BAD_INPUT;
    const struct vmroamrec_vm *vm = policy_db_vm(db->idl, name);
    const struct vmroamrec_migration *m = vm ? vm->migration : NULL;
    const struct vmroamrec_chassis *ch = (vm && vm->chassis
                                          ? policy_db_chassis(db->idl,
                                                              vm->chassis)
                                          : NULL);
    const char *uri = ch ? smap_get(&ch->external_ids, "libvirt-uri") : NULL;
    if (!vm) {
        fprintf(stderr, "vmroam: no VM named %s (vmroam host list shows the "
                "hosts; their agents report the VMs)\n", name);
    } else if (!vm->chassis) {
        fprintf(stderr, "vmroam: VM %s runs on no known host\n", name);
    } else if (vm->state && strcmp(vm->state, "running")) {
        fprintf(stderr, "vmroam: VM %s is not running (%s on %s): only a "
                "running VM's disks are moved\n", name, vm->state,
                vm->chassis);
    } else if (m && !migr_state_is_final(migr_row_state(m))) {
        fprintf(stderr, "vmroam: VM %s is being migrated (%s to %s, %s): "
                "move its storage once the migration has ended (vmroam "
                "migrations)\n", name, m->source,
                m->destination ? m->destination : "?", m->state);
        status = VMROAM_EXIT_FAILURE;   /* As "vmroam migrate" says it. */
    } else if (!ch) {
        fprintf(stderr, "vmroam: VM %s runs on %s, which is no known host\n",
                name, vm->chassis);
        status = VMROAM_EXIT_FAILURE;
    } else if (!uri) {
        fprintf(stderr, "vmroam: host %s publishes no libvirt URI (its "
                "vmroamd runs without --libvirt?)\n", ch->name);
        status = VMROAM_EXIT_FAILURE;
    } else {
        t->host = xstrdup(ch->name);
        t->uri = xstrdup(uri);
        status = VMROAM_EXIT_OK;
    }
    policy_db_close(db);
    return status;
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig OVS_UNUSED)
{
    stop = 1;
}

/* Interrupting the command rolls the move back instead of leaving copies
 * running. */
static void
catch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

struct printer {
    bool tty;
    int last_percent;
    size_t last_ready;
};

/* One progress line (over itself on a terminal), as "migrate --wait". */
static void
print_progress(const struct migr_blockcopy_progress *p, void *pr_)
{
    struct printer *pr = pr_;
    int percent = p->total ? p->done * 100 / p->total : 0;
    if (!pr->tty && percent == pr->last_percent
        && p->n_ready == pr->last_ready) {
        return;
    }
    pr->last_percent = percent;
    pr->last_ready = p->n_ready;

    double secs = p->msec / 1000.0;
    int width = 30, filled = percent * width / 100;
    printf("%scopying      [%.*s%*s] %3d%%  %7.1f MB/s  %zu/%zu disks ready"
           "%s", pr->tty ? "\r" : "", filled,
           "##############################", width - filled, "", percent,
           secs > 0 ? p->done / 1e6 / secs : 0, p->n_ready, p->n_disks,
           pr->tty ? "" : "\n");
    fflush(stdout);
}

static void
print_disks(const struct migr_moveplan *plan, size_t n_moved)
{
    for (size_t i = 0; i < plan->n_disks; i++) {
        const struct migr_move_disk *d = &plan->disks[i];
        if (i < n_moved) {
            printf("  %s: %s -> %s\n", d->target, d->source, d->dest);
        } else {
            printf("  %s: stays on %s\n", d->target, d->source);
        }
    }
    for (size_t i = 0; i < plan->skipped.n; i++) {
        printf("  %s: not moved\n", plan->skipped.names[i]);
    }
}

static int
report(const char *vm, const char *dir, enum migr_blockcopy_result r,
       const struct migr_blockcopy_outcome *out)
{
    const struct migr_moveplan *plan = &out->plan;
    double secs = out->msec / 1000.0;
    if (r == MIGR_BLOCKCOPY_MOVED) {
        printf("storage of %s moved to %s: %zu disk%s, %.1f MB on disk, "
               "%.1f MB copied in %.2f s (%.1f MB/s)\n", vm, plan->dir,
               plan->n_disks, plan->n_disks == 1 ? "" : "s",
               out->allocated / 1e6, out->copied / 1e6, secs,
               secs > 0 ? out->copied / 1e6 / secs : 0);
        print_disks(plan, plan->n_disks);
        printf("  %s runs on the new files; the old ones stay where they "
               "were: remove them once you no longer need them\n", vm);
        char *warning = migr_moveplan_headroom(plan->dir, out->available,
                                               out->allocated, out->capacity);
        if (warning) {
            printf("  warning: %s\n", warning);
            free(warning);
        }
        return VMROAM_EXIT_OK;
    }

    fprintf(stderr, "vmroam: storage move of %s to %s %s: %s\n", vm, dir,
            r == MIGR_BLOCKCOPY_REFUSED ? "refused" : "failed", out->error);
    if (out->n_pivoted) {
        fprintf(stderr, "vmroam: %zu of %s's %zu disks run on their new "
                "files already:\n", out->n_pivoted, vm, plan->n_disks);
        print_disks(plan, out->n_pivoted);
    } else if (r == MIGR_BLOCKCOPY_FAILED) {
        fprintf(stderr, "vmroam: %s runs on its old disks%s\n", vm,
                (out->rolled_back && !out->cleanup_error
                 ? "; the copies were aborted and the files they made "
                   "removed" : ""));
    }
    if (out->cleanup_error) {
        fprintf(stderr, "vmroam: but %s\n", out->cleanup_error);
    }
    return (r == MIGR_BLOCKCOPY_REFUSED ? VMROAM_EXIT_BAD_INPUT
            : VMROAM_EXIT_FAILURE);
}

static int
storage_move_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                 char *argv[])
{
    const char *vm = argv[0];
    const char *to = smap_get(&ctx->opts, "to");
    if (!to) {
        fprintf(stderr, "vmroam storage move: give the directory: --to "
                "DIR\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    char *dir;
    char *error = migr_moveplan_dir(to, &dir);
    if (error) {
        fprintf(stderr, "vmroam storage move: %s\n", error);
        free(error);
        return VMROAM_EXIT_BAD_INPUT;
    }
    long long int bandwidth = 0;
    if (!vmroam_number_opt(ctx, "bandwidth", 1, INT_MAX, &bandwidth)) {
        free(dir);
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct target t = { NULL, NULL };
    int status = find_target(ctx, vm, &t);
    if (!status) {
        printf("moving the disks of %s on %s to %s\n", vm, t.host, dir);
        fflush(stdout);
        catch_signals();
        struct printer pr = { .tty = isatty(STDOUT_FILENO),
                              .last_percent = -1 };
        struct migr_blockcopy_request rq = {
            .uri = t.uri, .host = t.host, .vm = vm, .dir = dir,
            .bandwidth = bandwidth * 1024 * 1024, .stop = &stop,
            .progress = print_progress, .aux = &pr,
        };
        struct migr_blockcopy_outcome out;
        enum migr_blockcopy_result r = migr_blockcopy_move(&rq, &out);
        if (pr.tty && pr.last_percent >= 0) {
            putchar('\n');
        }
        status = report(vm, dir, r, &out);
        migr_blockcopy_outcome_destroy(&out);
    }
    free(t.host);
    free(t.uri);
    free(dir);
    return status;
}

const struct vmroam_command vmroam_storage_commands[] = {
    {.name = "storage move",
     .args = "VM --to DIR [--bandwidth MIBPS]",
     .summary = "move a running VM's disks to directory DIR of its host",
     .options = "to bandwidth",
     .min_args = 1, .max_args = 1, .run = storage_move_cmd},
    {.name = NULL},
};
