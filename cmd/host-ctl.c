/* "vmroam host ...": the hypervisor hosts (chassis) as their agents report
 * them, whether they are alive, and their migration limits. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "openvswitch/dynamic-string.h"
#include "overlay/chassis.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

static char *
join(char **strings, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s", i ? " " : "", strings[i]);
    }
    return ds_steal_cstr(&s);
}

static const struct ovsdb_idl_table_class *const host_tables[] = {
    &vmroamrec_table_chassis, &vmroamrec_table_chassis_private, NULL,
};

static const char *
liveness_name(enum overlay_liveness l)
{
    return (l == OVERLAY_HOST_UP ? "up"
            : l == OVERLAY_HOST_SILENT ? "down (agent silent)"
            : l == OVERLAY_HOST_UNKNOWN ? "down (no heartbeat)"
            : "down");
}

/* When the agent of a host was last heard from. */
static void
heard_cell(struct table *t, long long int now, long long int heard)
{
    if (heard) {
        char *when = xastrftime_msec("%H:%M:%S", heard, true);
        vmroam_cell_nocopy(t, xasprintf("%lld s ago (%s UTC)",
                                        (now - heard) / 1000, when));
        free(when);
    } else {
        vmroam_cell(t, "never");
    }
}

/* The host's memory as its agent reported it: free of total. */
static char *
memory_cell(const struct vmroamrec_chassis *ch)
{
    int64_t total = -1, free_kb = -1;
    for (size_t i = 0; i < ch->n_capacity; i++) {
        if (!strcmp(ch->key_capacity[i], "memory_kb")) {
            total = ch->value_capacity[i];
        } else if (!strcmp(ch->key_capacity[i], "free_memory_kb")) {
            free_kb = ch->value_capacity[i];
        }
    }
    return (total < 0 ? xstrdup("unknown")
            : xasprintf("%"PRId64" of %"PRId64" MiB free", free_kb / 1024,
                        total / 1024));
}

static int
host_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
              char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect_tables(ctx, host_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }

    static const char *const columns[] = {
        "name", "state", "pa", "provider subnet", "underlay", "generation",
        "max migrations", "memory", "versions", "migration channel",
        "last heard"
    };
    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("Hosts"));
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        table_add_column(&t, "%s", columns[i]);
    }

    const struct vmroamrec_chassis *ch;
    VMROAMREC_CHASSIS_FOR_EACH (ch, db->idl) {
        struct ds versions = DS_EMPTY_INITIALIZER;
        const struct smap_node *node;
        SMAP_FOR_EACH (node, &ch->versions) {
            ds_put_format(&versions, "%s%s=%s", versions.length ? " " : "",
                          node->key, node->value);
        }
        table_add_row(&t);
        vmroam_cell(&t, ch->name);
        long long int now = time_wall_msec(), heard;
        const char *state = liveness_name(overlay_chassis_liveness(
                                              db->idl, ch->name, now, &heard));
        vmroam_cell_nocopy(&t, (ch->maintenance
                                ? xasprintf("%s, maintenance", state)
                                : xstrdup(state)));
        vmroam_cell_nocopy(&t, join(ch->pas, ch->n_pas));
        vmroam_cell_nocopy(&t, nullable_xstrdup(ch->provider_subnet));
        vmroam_cell(&t, ch->underlay_link ? ch->underlay_link : "unknown");
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64,
                                         policy_db_generation_applied(
                                             db->idl, ch->name)));
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64" (storage %"PRId64")",
                           ch->max_migrations, ch->max_storage_migrations));
        vmroam_cell_nocopy(&t, memory_cell(ch));
        vmroam_cell_nocopy(&t, ds_steal_cstr(&versions));
        vmroam_cell(&t, smap_get_def(&ch->external_ids, "migration-channel",
                                     "none (plain)"));
        heard_cell(&t, now, heard);
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

struct host_settings {
    const char *host;
    long long int max, max_storage;
    int maintenance;            /* 1 on, 0 off, -1 unchanged. */
    int status;
    char *error;
};

static bool
build_host_set(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
               void *hs_)
{
    struct host_settings *hs = hs_;
    const struct vmroamrec_chassis *ch = policy_db_chassis(idl, hs->host);
    free(hs->error);
    hs->error = NULL;
    if (!ch) {
        hs->error = xasprintf("no host named %s", hs->host);
        hs->status = VMROAM_EXIT_BAD_INPUT;
        return false;
    }
    if (hs->max >= 0) {
        vmroamrec_chassis_set_max_migrations(ch, hs->max);
    }
    if (hs->max_storage >= 0) {
        vmroamrec_chassis_set_max_storage_migrations(ch, hs->max_storage);
    }
    if (hs->maintenance >= 0) {
        vmroamrec_chassis_set_maintenance(ch, hs->maintenance);
    }
    hs->status = VMROAM_EXIT_OK;
    return true;
}

/* Parses --maintenance into '*maintenance' (-1 if not given). */
static bool
maintenance_opt(const struct vmroam_ctx *ctx, int *maintenance)
{
    const char *m = smap_get(&ctx->opts, "maintenance");
    *maintenance = !m ? -1 : !strcmp(m, "on") ? 1 : !strcmp(m, "off") ? 0 : -2;
    if (*maintenance == -2) {
        fprintf(stderr, "vmroam host set: --maintenance: %s is not on or "
                "off\n", m);
        return false;
    }
    return true;
}

/* Applies 'hs' to its host; says what happened.  Returns an exit
 * status. */
static int
apply_settings(const struct vmroam_ctx *ctx, struct host_settings *hs)
{
    struct policy_db *db = vmroam_connect_tables(ctx, host_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    char *error = NULL;
    int status = VMROAM_EXIT_FAILURE;
    if (!policy_db_transact(db, build_host_set, hs, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
    } else if (hs->status) {
        fprintf(stderr, "vmroam: %s\n", hs->error);
        status = hs->status;
    } else {
        status = VMROAM_EXIT_OK;
    }
    free(hs->error);
    hs->error = NULL;
    policy_db_close(db);
    return status;
}

static int
host_set_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED, char *argv[])
{
    struct host_settings hs = { .host = argv[0], .max = -1,
                                .max_storage = -1 };
    if (!vmroam_number_opt(ctx, "max-migrations", 0, 1000, &hs.max)
        || !vmroam_number_opt(ctx, "max-storage-migrations", 0, 1000,
                              &hs.max_storage)
        || !maintenance_opt(ctx, &hs.maintenance)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (hs.max < 0 && hs.max_storage < 0 && hs.maintenance < 0) {
        fprintf(stderr, "vmroam host set: give --max-migrations N, "
                "--max-storage-migrations N or --maintenance on|off\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    int status = apply_settings(ctx, &hs);
    if (!status) {
        printf("host %s: %s\n", hs.host,
               (hs.maintenance == 1 ? "in maintenance: no VM may arrive"
                : hs.maintenance == 0 ? "out of maintenance"
                : "limits set"));
    }
    return status;
}

const struct vmroam_command vmroam_host_commands[] = {
    {.name = "host list",
     .args = "[--format table|json]",
     .summary = "the hosts: state (up, or down when their agent stopped or "
                "has been silent for 10 s), PA, underlay link, generation "
                "applied",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = host_list_cmd},
    {.name = "host set",
     .args = "HOST [--max-migrations N] [--max-storage-migrations N] "
             "[--maintenance on|off]",
     .summary = "a host's concurrent migration limits; maintenance: no VM "
                "may arrive",
     .options = "max-migrations max-storage-migrations maintenance",
     .min_args = 1, .max_args = 1, .run = host_set_cmd},
    {.name = NULL},
};
