/* The vmroam database as seen by a client: connecting, reading the policy
 * tables into a struct policy, and writing a policy diff in one transaction
 * that bumps the policy generation.
 *
 * Changes go through one of two doors, and either way a change is built
 * from contents read at one generation and commits only if the generation
 * is still that one, so that concurrent writers never leave a mix of their
 * changes.  policy_db_transact() builds an IDL transaction from the current
 * contents, verifies what it read, and rebuilds from fresh contents when
 * another client got there first.  policy_db_execute() runs OVSDB
 * operations (policy/ops.h) on a connection of their own: for writes too
 * large for the IDL, such as a policy of a million lookup records, which
 * the client that read the policy need not receive back, and for the rows
 * read by key. */

#ifndef POLICY_DB_H
#define POLICY_DB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ovsdb-idl.h"

struct ovsdb_idl;
struct ovsdb_idl_condition;
struct ovsdb_idl_index;
struct ovsdb_idl_table_class;
struct ovsdb_idl_txn;
struct vmroamrec_chassis;
struct vmroamrec_lookup_record;
struct vmroamrec_vm;
struct policy;
struct policy_lookup_record;
struct policy_diff;
struct json;
struct jsonrpc_session;

#define POLICY_DB_DEFAULT_TIMEOUT_MS 10000

/* A connection to the vmroam database.  Every wait on it ends after
 * 'timeout_ms'. */
struct policy_db {
    struct ovsdb_idl *idl;
    char *remote;
    int timeout_ms;
    struct jsonrpc_session *rpc;    /* For policy_db_execute(), or NULL. */
};

struct policy_db *policy_db_connect(
    const char *remote, int timeout_ms,
    const struct ovsdb_idl_table_class *const *tables,
    const struct ovsdb_idl_condition *records, char **errorp);
void policy_db_close(struct policy_db *);
char *policy_db_refused(const char *remote, bool permission,
                        const char *why);
struct json *policy_db_execute(struct policy_db *, struct json *ops,
                               char **errorp);
void policy_db_set_leader_only(struct ovsdb_idl *, const char *remote);

void policy_db_omit_for_agent(struct ovsdb_idl *);
void policy_db_alert_policy_only(struct ovsdb_idl *);
void policy_db_track_records(struct ovsdb_idl *);
unsigned int policy_db_structure_seqno(const struct ovsdb_idl *);
const struct vmroamrec_chassis *policy_db_chassis(const struct ovsdb_idl *,
                                                  const char *name);
const struct vmroamrec_vm *policy_db_vm(const struct ovsdb_idl *,
                                        const char *name);
struct ovsdb_idl_index *policy_db_index_records(struct ovsdb_idl *);
size_t policy_db_vm_records(struct ovsdb_idl_index *, const char *vm,
                            const struct vmroamrec_lookup_record ***);
void policy_db_load(struct ovsdb_idl *, struct policy *);
void policy_db_read_record(const struct vmroamrec_lookup_record *,
                           struct policy_lookup_record *);
struct json *policy_db_record_columns(void);
bool policy_db_select_records(struct policy_db *, struct policy *,
                              bool *changed, char **errorp);
bool policy_db_record_from_json(const struct json *,
                                struct policy_lookup_record *);
int64_t policy_db_generation(const struct ovsdb_idl *);
int64_t policy_db_generation_applied(const struct ovsdb_idl *,
                                     const char *chassis);

void policy_db_diff_ops(const struct policy_diff *, struct json *ops);
struct json *policy_db_generation_wait(const struct ovsdb_idl *);
int64_t policy_db_generation_ops(const struct ovsdb_idl *, struct json *ops);
/* The key in Vmroam_Global's external_ids that says policy_db_is_keyed(). */
#define POLICY_DB_KEYED_ROWS "vmroam-keyed-rows"
bool policy_db_is_keyed(const struct ovsdb_idl *);
size_t policy_db_rekey(struct ovsdb_idl *, struct ovsdb_idl_txn *);
int64_t policy_db_bump_generation(struct ovsdb_idl *, struct ovsdb_idl_txn *);

bool policy_db_wait_applied(struct policy_db *, int64_t generation,
                            size_t *n_chassis, char **errorp);

/* Called with a fresh transaction and the database's current contents.
 * Returns true to commit, false if there is nothing to do. */
typedef bool policy_db_build_func(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                  void *aux);

bool policy_db_transact(struct policy_db *, policy_db_build_func *,
                        void *aux, char **errorp);

enum ovsdb_idl_txn_status policy_db_commit_until(struct ovsdb_idl *,
                                                 struct ovsdb_idl_txn *,
                                                 long long int deadline);
char *policy_db_run_path(const char *state_dir, const char *name);
char *policy_db_default_remote(const char *state_dir);
void policy_db_ssl_from_environment(void);

#endif /* policy/db.h */
