#include <config.h>

#include "policy/access.h"

#include <stdlib.h>
#include <string.h>

#include "ovsdb-idl.h"
#include "policy/vmroam-idl.h"
#include "util.h"

#define STRINGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* What each agent really writes (SCHEMA.md, "Who writes what"), and
 * nothing more.  The policy tables, IPAM's tables and every other host's
 * rows have no entry, so the agent role may only read them. */
const struct policy_access_permission policy_access_agent[] = {
    /* Its own host: registered, kept up to date, marked down. */
    {"Chassis", STRINGS("name"), true,
     STRINGS("pas", "provider_subnet", "state", "underlay_link",
             "versions", "capacity", "external_ids")},
    {"Chassis_Private", STRINGS("name"), true,
     STRINGS("heartbeat", "generation_applied", "external_ids")},
    /* The VMs it runs, and those migrating to or from it. */
    {"VM", STRINGS("chassis", "moving:source", "moving:destination"), true,
     STRINGS("chassis", "state", "ports", "memory_kb", "vcpus", "disks",
             "disk_kb", "moving")},
    /* The records of a VM migrating to or from it, which "vmroam migrate"
     * marks: so a host moves no other VM's traffic. */
    {"Lookup_Record", STRINGS("moving:source", "moving:destination"), false,
     STRINGS("pa", "chassis", "moving")},
    /* The migrations it is the source or the destination of: their
     * progress, never what they move where. */
    {"Migration", STRINGS("source", "destination"), false,
     STRINGS("state", "progress", "stats", "timestamps", "error", "storage",
             "storage_probe", "storage_verdict", "external_ids")},
    /* A record move bumps the policy generation. */
    {"Vmroam_Global", STRINGS(""), false, STRINGS("generation")},
};
const size_t policy_access_n_agent = ARRAY_SIZE(policy_access_agent);

static size_t
count(const char *const *strings)
{
    size_t n = 0;
    while (strings[n]) {
        n++;
    }
    return n;
}

/* Parses 'addr_port' ("ADDR:PORT", "[IPV6]:PORT", ":PORT" or "PORT") into
 * the agents' listener '*target' ("pssl:PORT[:ADDR]").  Returns an error
 * that starts with 'addr_port' (the caller says which option gave it), or
 * NULL. */
char *
policy_access_listener(const char *addr_port, char **target)
{
    const char *colon = strrchr(addr_port, ':');
    const char *port = colon ? colon + 1 : addr_port;
    char *addr = colon ? xmemdup0(addr_port, colon - addr_port) : xstrdup("");
    char *end;
    long n = strtol(port, &end, 10);

    *target = NULL;
    if (!*port || *end || n < 1 || n > 65535) {
        free(addr);
        return xasprintf("%s: \"%s\" is not a port (1-65535); "
                         "give ADDR:PORT or PORT", addr_port, port);
    }
    if (addr[0] == '[') {
        size_t len = strlen(addr);
        if (addr[len - 1] != ']') {
            free(addr);
            return xasprintf("%s: an IPv6 address goes in "
                             "brackets, [ADDR]:PORT", addr_port);
        }
    }
    *target = (addr[0] ? xasprintf("pssl:%ld:%s", n, addr)
                       : xasprintf("pssl:%ld", n));
    free(addr);
    return NULL;
}

static const struct vmroamrec_rbac_permission *
write_permission(struct ovsdb_idl_txn *txn,
                 const struct policy_access_permission *p)
{
    const struct vmroamrec_rbac_permission *row
        = vmroamrec_rbac_permission_insert(txn);
    vmroamrec_rbac_permission_set_table(row, p->table);
    vmroamrec_rbac_permission_set_authorization(
        row, CONST_CAST(const char **, p->authorization),
        count(p->authorization));
    vmroamrec_rbac_permission_set_insert_delete(row, p->insert_delete);
    vmroamrec_rbac_permission_set_update(
        row, CONST_CAST(const char **, p->update), count(p->update));
    return row;
}

/* Replaces, in 'txn', the agent role with the permissions above and the
 * database's listeners with 'targets' (pssl: remotes, each with the agent
 * role).  Other roles, which an operator may have added, stay. */
void
policy_access_write(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                    const char *const *targets, size_t n_targets)
{
    const struct vmroamrec_rbac_role *role;
    VMROAMREC_RBAC_ROLE_FOR_EACH (role, idl) {
        if (!strcmp(role->name, POLICY_ACCESS_AGENT_ROLE)) {
            vmroamrec_rbac_role_delete(role);
        }
    }
    const char *tables[ARRAY_SIZE(policy_access_agent)];
    struct vmroamrec_rbac_permission *perms[ARRAY_SIZE(policy_access_agent)];
    for (size_t i = 0; i < policy_access_n_agent; i++) {
        tables[i] = policy_access_agent[i].table;
        perms[i] = CONST_CAST(struct vmroamrec_rbac_permission *,
                              write_permission(txn, &policy_access_agent[i]));
    }
    role = vmroamrec_rbac_role_insert(txn);
    vmroamrec_rbac_role_set_name(role, POLICY_ACCESS_AGENT_ROLE);
    vmroamrec_rbac_role_set_permissions(role, tables, perms,
                                        policy_access_n_agent);

    struct vmroamrec_connection **conns = xmalloc((n_targets + 1)
                                                  * sizeof *conns);
    for (size_t i = 0; i < n_targets; i++) {
        conns[i] = CONST_CAST(struct vmroamrec_connection *,
                              vmroamrec_connection_insert(txn));
        vmroamrec_connection_set_target(conns[i], targets[i]);
        vmroamrec_connection_set_role(conns[i], POLICY_ACCESS_AGENT_ROLE);
    }
    const struct vmroamrec_vmroam_global *g
        = vmroamrec_vmroam_global_first(idl);
    if (!g) {
        g = vmroamrec_vmroam_global_insert(txn);
        vmroamrec_vmroam_global_set_generation(g, 0);
    }
    vmroamrec_vmroam_global_set_connections(g, conns, n_targets);
    free(conns);
}
