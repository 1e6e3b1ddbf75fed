/* "vmroam vm list", "vmroam vm set": the VMs as their hosts' agents report
 * them, and what an operator says of them (their priority in a drain). */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "migrator/placement.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "table.h"
#include "util.h"

static const struct ovsdb_idl_table_class *const vm_tables[] = {
    &vmroamrec_table_vm, NULL,
};

static char *
mib_cell(const int64_t *kb, size_t n)
{
    return n ? xasprintf("%"PRId64" MiB", *kb / 1024) : xstrdup("-");
}

static int
vm_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
            char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect_tables(ctx, vm_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    static const char *const columns[] = {
        "name", "host", "state", "memory", "vcpus", "disks", "priority",
    };
    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("VMs"));
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        table_add_column(&t, "%s", columns[i]);
    }
    const struct vmroamrec_vm *vm;
    VMROAMREC_VM_FOR_EACH (vm, db->idl) {
        table_add_row(&t);
        vmroam_cell(&t, vm->name);
        vmroam_cell(&t, vm->chassis ? vm->chassis : "-");
        vmroam_cell(&t, vm->state ? vm->state : "-");
        vmroam_cell_nocopy(&t, mib_cell(vm->memory_kb, vm->n_memory_kb));
        vmroam_cell_nocopy(&t, (vm->n_vcpus ? xasprintf("%"PRId64,
                                                        vm->vcpus[0])
                                : xstrdup("-")));
        vmroam_cell_nocopy(&t, mib_cell(vm->disk_kb, vm->n_disk_kb));
        vmroam_cell(&t, vm->priority ? vm->priority : "medium");
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

struct priority_request {
    const char *vm;
    const char *priority;
    bool found;
};

static bool
build_priority(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
               void *pr_)
{
    struct priority_request *pr = pr_;
    const struct vmroamrec_vm *vm = policy_db_vm(idl, pr->vm);
    pr->found = vm != NULL;
    if (vm) {
        vmroamrec_vm_set_priority(vm, pr->priority);
    }
    return pr->found;
}

static int
vm_set_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED, char *argv[])
{
    struct priority_request pr = {
        .vm = argv[0], .priority = smap_get(&ctx->opts, "priority"),
    };
    enum migr_priority p;
    if (!pr.priority || !migr_priority_parse(pr.priority, &p)) {
        fprintf(stderr, "vmroam vm set: give --priority high, medium or "
                "low\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct policy_db *db = vmroam_connect_tables(ctx, vm_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    char *error = NULL;
    int status = VMROAM_EXIT_OK;
    if (!policy_db_transact(db, build_priority, &pr, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        status = VMROAM_EXIT_FAILURE;
    } else if (!pr.found) {
        fprintf(stderr, "vmroam: no VM named %s (vmroam vm list shows "
                "them)\n", pr.vm);
        status = VMROAM_EXIT_BAD_INPUT;
    } else {
        printf("VM %s: priority %s\n", pr.vm, pr.priority);
    }
    policy_db_close(db);
    return status;
}

const struct vmroam_command vmroam_vm_commands[] = {
    {.name = "vm list",
     .args = "[--format table|json]",
     .summary = "the VMs: host, state, size as their agents report it, "
                "priority",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = vm_list_cmd},
    {.name = "vm set",
     .args = "VM --priority high|medium|low",
     .summary = "a VM's priority: drains and evacuations move high first",
     .options = "priority",
     .min_args = 1, .max_args = 1, .run = vm_set_cmd},
    {.name = NULL},
};
