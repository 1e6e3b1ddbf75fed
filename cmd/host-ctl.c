/* "vmroam host ...": the hypervisor hosts (chassis) as their agents report
 * them. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "openvswitch/dynamic-string.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "table.h"
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

static int
host_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
              char *argv[] OVS_UNUSED)
{
    static const struct ovsdb_idl_table_class *const tables[] = {
        &vmroamrec_table_chassis, NULL,
    };
    struct policy_db *db = vmroam_connect_tables(ctx, tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }

    static const char *const columns[] = {
        "name", "state", "pa", "provider subnet", "underlay", "generation",
        "max migrations", "versions"
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
        vmroam_cell_nocopy(&t, xstrdup(ch->name));
        vmroam_cell_nocopy(&t, xstrdup(ch->state));
        vmroam_cell_nocopy(&t, join(ch->pas, ch->n_pas));
        vmroam_cell_nocopy(&t, nullable_xstrdup(ch->provider_subnet));
        vmroam_cell(&t, ch->underlay_link ? ch->underlay_link : "unknown");
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64, ch->generation_applied));
        vmroam_cell_nocopy(&t, xasprintf("%"PRId64" (storage %"PRId64")",
                           ch->max_migrations, ch->max_storage_migrations));
        vmroam_cell_nocopy(&t, ds_steal_cstr(&versions));
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

const struct vmroam_command vmroam_host_commands[] = {
    {.name = "host list",
     .args = "[--format table|json]",
     .summary = "the hosts: state, PA, underlay link, generation applied",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = host_list_cmd},
    {.name = NULL},
};
