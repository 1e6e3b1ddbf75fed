/* Who may write what in the vmroam database.
 *
 * Administrators reach ovsdb-server through its local unix socket, which
 * carries no role and may write anything.  Agents connect to an SSL
 * listener (a Connection row) whose role is POLICY_ACCESS_AGENT_ROLE;
 * ovsdb-server then lets an agent write only the rows its certificate's
 * common name (its chassis name) owns, as the RBAC_Role and
 * RBAC_Permission rows written here say.  SCHEMA.md has the table. */

#ifndef POLICY_ACCESS_H
#define POLICY_ACCESS_H 1

#include <stdbool.h>
#include <stddef.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;

#define POLICY_ACCESS_AGENT_ROLE "vmroam-agent"
#define POLICY_ACCESS_DEFAULT_PORT 6641

/* What the agent role may do to one table.  A row is the agent's if one
 * of 'authorization' (a column, or "column:key" of a map) holds the
 * agent's name; then it may insert or delete it if 'insert_delete', and
 * change the 'update' columns. */
struct policy_access_permission {
    const char *table;
    const char *const *authorization;
    bool insert_delete;
    const char *const *update;
};

extern const struct policy_access_permission policy_access_agent[];
extern const size_t policy_access_n_agent;

char *policy_access_listener(const char *addr_port, char **target);
void policy_access_write(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                         const char *const *targets, size_t n_targets);

#endif /* policy/access.h */
