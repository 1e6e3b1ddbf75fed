/* "vmroam policy ...": validate policy files and apply, diff, show and
 * export the policy in the vmroam database. */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "policy/db.h"
#include "policy/diff.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/validate.h"
#include "svec.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

/* How many changes per table apply and diff list unless --verbose. */
#define MAX_LISTED_CHANGES 20

/* Reads, parses and validates 'file' into 'policy', in canonical form.
 * Prints every problem and returns false if there was any. */
static bool
load_file(const char *file, struct policy *policy)
{
    struct svec errors = SVEC_EMPTY_INITIALIZER;
    policy_init(policy);
    /* Items with a bad field are left out of 'policy'; checking the rest
     * still finds every other problem in one run. */
    policy_parse_file(file, policy, &errors);
    policy_validate(policy, file, &errors);
    for (size_t i = 0; i < errors.n; i++) {
        fprintf(stderr, "%s\n", errors.names[i]);
    }
    bool ok = !errors.n;
    if (!ok) {
        fprintf(stderr, "%s: %"PRIuSIZE" error%s; nothing was changed\n",
                file, errors.n, errors.n == 1 ? "" : "s");
    }
    svec_destroy(&errors);
    policy_canonicalize(policy);
    return ok;
}

static void
print_counts(const struct policy *p)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        printf("%s%"PRIuSIZE" %s", t ? ", " : "", policy_n_items(p, t),
               policy_tables[t].name);
    }
}

static int
policy_validate_cmd(const struct vmroam_ctx *ctx OVS_UNUSED,
                    int argc OVS_UNUSED, char *argv[])
{
    struct policy policy;
    bool ok = load_file(argv[0], &policy);
    if (ok) {
        printf("%s: valid (", argv[0]);
        print_counts(&policy);
        printf(")\n");
    }
    policy_destroy(&policy);
    return ok ? VMROAM_EXIT_OK : VMROAM_EXIT_BAD_INPUT;
}

/* An apply, or a diff when 'commit' is false, built afresh on every attempt
 * from the database's current contents. */
struct apply {
    const struct policy *file;
    bool commit;
    struct ds report;           /* What the last attempt found. */
    size_t max_listed;
    int64_t generation;         /* Generation the last attempt would make. */
    bool changed;
};

static bool
build_apply(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *apply_)
{
    struct apply *apply = apply_;
    struct policy current;
    struct policy_diff diff;

    policy_init(&current);
    policy_db_load(idl, &current);
    policy_diff(&current, apply->file, &diff);

    ds_clear(&apply->report);
    policy_diff_format(&diff, apply->max_listed, &apply->report);
    apply->changed = !policy_diff_is_empty(&diff);
    apply->generation = policy_db_generation(idl) + apply->changed;
    if (apply->commit && apply->changed) {
        policy_db_write_diff(idl, txn, &diff);
        policy_db_bump_generation(idl, txn);
    }

    policy_diff_destroy(&diff);
    policy_destroy(&current);
    return apply->commit && apply->changed;
}

/* --wait: until every chassis that is up runs 'generation'. */
static int
wait_applied(struct policy_db *db, int64_t generation)
{
    long long int start = time_msec();
    size_t n_chassis;
    char *error = NULL;

    if (!policy_db_wait_applied(db, generation, &n_chassis, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        return VMROAM_EXIT_FAILURE;
    }
    printf("generation %"PRId64" installed on all %"PRIuSIZE" chassis in "
           "%lld ms\n", generation, n_chassis, time_msec() - start);
    return VMROAM_EXIT_OK;
}

static int
run_apply(const struct vmroam_ctx *ctx, const char *file, bool commit)
{
    struct policy policy;
    if (!load_file(file, &policy)) {
        policy_destroy(&policy);
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        policy_destroy(&policy);
        return VMROAM_EXIT_FAILURE;
    }

    struct apply apply = {
        .file = &policy,
        .commit = commit,
        .report = DS_EMPTY_INITIALIZER,
        .max_listed = ctx->verbose ? SIZE_MAX : MAX_LISTED_CHANGES,
    };
    char *error = NULL;
    int status = VMROAM_EXIT_OK;
    if (policy_db_transact(db, build_apply, &apply, &error)) {
        fputs(ds_cstr(&apply.report), stdout);
        if (!apply.changed) {
            printf("no changes: the database already holds %s "
                   "(generation %"PRId64")\n", file, apply.generation);
        } else if (commit) {
            printf("applied %s: generation %"PRId64"\n", file,
                   apply.generation);
        } else {
            printf("%s would make generation %"PRId64"%s\n", file,
                   apply.generation, ctx->dry_run ? " (dry run: nothing "
                   "was changed)" : "");
        }
        if (commit && ctx->wait) {
            status = wait_applied(db, apply.generation);
        }
    } else {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        status = VMROAM_EXIT_FAILURE;
    }

    ds_destroy(&apply.report);
    policy_db_close(db);
    policy_destroy(&policy);
    return status;
}

static int
policy_apply_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                 char *argv[])
{
    return run_apply(ctx, argv[0], !ctx->dry_run);
}

static int
policy_diff_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                char *argv[])
{
    return run_apply(ctx, argv[0], false);
}

/* Loads the database's policy into 'policy' and returns its generation, or
 * -1 if the database cannot be reached. */
static int64_t
load_db(const struct vmroam_ctx *ctx, struct policy *policy)
{
    struct policy_db *db = vmroam_connect(ctx);
    policy_init(policy);
    if (!db) {
        return -1;
    }
    policy_db_load(db->idl, policy);
    int64_t generation = policy_db_generation(db->idl);
    policy_db_close(db);
    return generation;
}

static void
print_table(const struct vmroam_ctx *ctx, const struct policy *p,
            enum policy_table t)
{
    const struct policy_table_class *c = &policy_tables[t];
    struct table table;

    table_init(&table);
    table_set_caption(&table, xasprintf("%s (%"PRIuSIZE" rows)", c->name,
                                        policy_n_items(p, t)));
    for (const char *const *f = c->fields; *f; f++) {
        table_add_column(&table, "%s", *f);
    }
    for (size_t i = 0; i < policy_n_items(p, t); i++) {
        struct json *row = c->to_json(policy_item(p, t, i));
        table_add_row(&table);
        for (const char *const *f = c->fields; *f; f++) {
            const struct json *v = shash_find_data(json_object(row), *f);
            table_add_cell(&table)->text
                = (!v ? xstrdup("")
                   : v->type == JSON_STRING ? xstrdup(json_string(v))
                   : json_to_string(v, 0));
        }
        json_destroy(row);
    }
    vmroam_print_table(ctx, &table);
}

static int
policy_show_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                char *argv[] OVS_UNUSED)
{
    struct policy policy;
    int64_t generation = load_db(ctx, &policy);
    if (generation < 0) {
        return VMROAM_EXIT_FAILURE;
    }

    if (ctx->format == VMROAM_FORMAT_JSON) {
        struct json *json = policy_to_json(&policy);
        json_object_put(json, "generation", json_integer_create(generation));
        char *s = json_to_string(json, JSSF_SORT | JSSF_PRETTY);
        puts(s);
        free(s);
        json_destroy(json);
    } else {
        printf("generation %"PRId64"\n\n", generation);
        for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
            print_table(ctx, &policy, t);
        }
    }
    policy_destroy(&policy);
    return VMROAM_EXIT_OK;
}

/* Writes canonical 'policy' as a policy file to --output or stdout. */
static int
write_policy(const struct vmroam_ctx *ctx, const struct policy *policy)
{
    struct json *json = policy_to_json(policy);
    char *s = json_to_string(json, JSSF_SORT | JSSF_PRETTY);
    int status = VMROAM_EXIT_OK;
    FILE *out = ctx->output ? fopen(ctx->output, "w") : stdout;
    if (!out || fprintf(out, "%s\n", s) < 0
        || (ctx->output && fclose(out))) {
        fprintf(stderr, "vmroam: cannot write %s: %s\n",
                ctx->output ? ctx->output : "standard output",
                ovs_strerror(errno));
        status = VMROAM_EXIT_FAILURE;
    }
    free(s);
    json_destroy(json);
    return status;
}

static int
policy_export_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                  char *argv[] OVS_UNUSED)
{
    struct policy policy;
    int status = (load_db(ctx, &policy) < 0
                  ? VMROAM_EXIT_FAILURE
                  : write_policy(ctx, &policy));
    policy_destroy(&policy);
    return status;
}

static int
policy_format_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                  char *argv[])
{
    struct policy policy;
    int status = (load_file(argv[0], &policy)
                  ? write_policy(ctx, &policy)
                  : VMROAM_EXIT_BAD_INPUT);
    policy_destroy(&policy);
    return status;
}

const struct vmroam_command vmroam_policy_commands[] = {
    {.name = "policy validate",
     .args = "FILE",
     .summary = "check a policy file; print every error",
     .options = "",
     .min_args = 1, .max_args = 1, .run = policy_validate_cmd},
    {.name = "policy apply",
     .args = "FILE [--dry-run] [--wait]",
     .summary = "make the database's policy equal FILE, in one transaction",
     .options = "dry-run wait",
     .min_args = 1, .max_args = 1, .run = policy_apply_cmd},
    {.name = "policy diff",
     .args = "FILE",
     .summary = "what applying FILE would change",
     .options = "",
     .min_args = 1, .max_args = 1, .run = policy_diff_cmd},
    {.name = "policy show",
     .args = "[--format table|json]",
     .summary = "the policy in the database",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = policy_show_cmd},
    {.name = "policy export",
     .args = "[-o FILE]",
     .summary = "the database's policy as a canonical policy file",
     .options = "output",
     .min_args = 0, .max_args = 0, .run = policy_export_cmd},
    {.name = "policy format",
     .args = "FILE [-o FILE]",
     .summary = "check FILE and print it in canonical form",
     .options = "output",
     .min_args = 1, .max_args = 1, .run = policy_format_cmd},
    {.name = NULL},
};
