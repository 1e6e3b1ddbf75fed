/* The "vmroam" command line: shared context and the command table.
 *
 * Each command runs with its positional arguments and returns an exit
 * status: 0 success, 1 operational failure (database unreachable, commit
 * failed), 2 bad input or usage.  Commands print results on stdout and
 * problems on stderr, one actionable line each. */

#ifndef VMROAM_H
#define VMROAM_H 1

#include <stdbool.h>

#include "smap.h"
#include "sset.h"
#include "svec.h"

struct ovsdb_idl_condition;
struct ovsdb_idl_table_class;
struct table;
struct uuid;

enum {
    VMROAM_EXIT_OK = 0,
    VMROAM_EXIT_FAILURE = 1,
    VMROAM_EXIT_BAD_INPUT = 2
};

enum vmroam_format {
    VMROAM_FORMAT_TABLE,
    VMROAM_FORMAT_JSON
};

struct vmroam_ctx {
    const char *command;        /* The command's name, for messages. */
    const char *db_remote;      /* --db, or the embedded database. */
    const char *state_dir;      /* --state-dir, or NULL for the defaults. */
    int timeout_ms;             /* --timeout. */
    enum vmroam_format format;  /* --format. */
    bool dry_run;               /* --dry-run. */
    bool wait;                  /* --wait. */
    bool verbose;               /* --verbose. */
    const char *output;         /* --output FILE, or NULL for stdout. */
    struct smap opts;           /* Command options: --vsid N -> "vsid"=N. */
    struct svec reserve;        /* Each --reserve RANGE. */
    struct svec ranges;         /* Each --range RANGE. */
    struct sset given;          /* Names of the command options given. */
};

struct vmroam_command {
    const char *name;           /* "policy apply". */
    const char *args;           /* "FILE [--dry-run]". */
    const char *summary;
    const char *options;        /* The options it takes: "dry-run wait".
                                 * Any other is an error. */
    int min_args, max_args;
    int (*run)(const struct vmroam_ctx *, int argc, char *argv[]);
};

extern const struct vmroam_command vmroam_db_commands[];
extern const struct vmroam_command vmroam_policy_commands[];
extern const struct vmroam_command vmroam_ipam_commands[];
extern const struct vmroam_command vmroam_host_commands[];
extern const struct vmroam_command vmroam_migrate_commands[];
extern const struct vmroam_command vmroam_pki_commands[];
extern const struct vmroam_command vmroam_plan_commands[];
extern const struct vmroam_command vmroam_vm_commands[];
extern const struct vmroam_command vmroam_storage_commands[];

/* How long "vmroam pki host" certificates last by default. */
#define VMROAM_PKI_HOST_DAYS (2 * 365)
char *vmroam_pki_dir(const struct vmroam_ctx *);
char *vmroam_short_id(const struct uuid *);
bool vmroam_id_matches(const struct uuid *, const char *id);

struct policy_db *vmroam_connect(const struct vmroam_ctx *);
struct policy_db *vmroam_connect_scoped(
    const struct vmroam_ctx *,
    const struct ovsdb_idl_table_class *const *tables,
    const struct sset *records_of);
struct policy_db *vmroam_connect_tables(
    const struct vmroam_ctx *,
    const struct ovsdb_idl_table_class *const *tables);
void vmroam_print_table(const struct vmroam_ctx *, struct table *);
void vmroam_cell(struct table *, const char *text);
void vmroam_cell_nocopy(struct table *, char *text);
bool vmroam_number_opt(const struct vmroam_ctx *, const char *name,
                       long long int min, long long int max,
                       long long int *value);

#endif /* cmd/vmroam.h */
