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
#include "policy/key.h"
#include "policy/ops.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/validate.h"
#include "policy/vmroam-idl.h"
#include "svec.h"
#include "table.h"
#include "timeval.h"
#include "util.h"
#include "uuidset.h"

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

/* What a client of the policy replicates: its small tables and the
 * generation.  The lookup records are read by select (all of them, or by
 * key), never replicated. */
static const struct ovsdb_idl_table_class *const small_tables[] = {
    &vmroamrec_table_vmroam_global, &vmroamrec_table_routing_domain,
    &vmroamrec_table_virtual_subnet, &vmroamrec_table_provider_subnet,
    &vmroamrec_table_customer_route, NULL,
};

/* A change of the policy (an apply, a record change, or a diff when
 * 'commit' is false), built afresh on every attempt from the database's
 * current contents: what the database holds, what it should, and the
 * operations that make it so. */
struct apply {
    const struct policy *file;
    bool commit;
    /* What to replicate to find the change (the lookup records are read
     * by select). */
    const struct ovsdb_idl_table_class *const *tables;
    struct ds report;           /* What the last attempt found. */
    size_t max_listed;
    int64_t generation;         /* Generation the last attempt would make. */
    bool changed;
    bool refused;               /* The change is not valid: nothing to say
                                 * here, the caller says why. */
    bool failed;                /* Reading failed, as said on stderr. */
    bool stale;                 /* The policy changed while it was read:
                                 * plan again. */
    struct json *ops;           /* The write, if any: policy_db_execute(). */
};

/* Finds what makes 'current' (read from 'idl') into 'desired', into
 * 'apply''s report, and the operations that write it if it commits. */
static void
plan_policy(struct ovsdb_idl *idl, struct apply *apply,
            const struct policy *current, const struct policy *desired)
{
    struct policy_diff diff;
    policy_diff(current, desired, &diff);
    ds_clear(&apply->report);
    policy_diff_format(&diff, apply->max_listed, &apply->report);
    apply->changed = !policy_diff_is_empty(&diff);
    apply->generation = policy_db_generation(idl) + apply->changed;
    if (apply->commit && apply->changed) {
        apply->ops = policy_ops_create();
        policy_db_generation_ops(idl, apply->ops);
        policy_db_diff_ops(&diff, apply->ops);
    }
    policy_diff_destroy(&diff);
}

/* Reads the whole policy into 'p' (initialized here).  Says why not on
 * stderr, or sets '*changed' if it changed while it was read. */
static bool
read_policy(struct policy_db *db, struct policy *p, bool *changed)
{
    char *error = NULL;
    policy_init(p);
    policy_db_load(db->idl, p);
    if (!policy_db_select_records(db, p, changed, &error) && error) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
    }
    return !error && !*changed;
}

static void
plan_apply(struct policy_db *db, struct apply *apply)
{
    struct policy current;
    if (read_policy(db, &current, &apply->stale)) {
        plan_policy(db->idl, apply, &current, apply->file);
    } else {
        apply->failed = !apply->stale;
    }
    policy_destroy(&current);
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

/* What a write replicates: the hosts, for --wait. */
static const struct ovsdb_idl_table_class *const write_tables[] = {
    &vmroamrec_table_vmroam_global, &vmroamrec_table_chassis,
    &vmroamrec_table_chassis_private, NULL,
};

/* Runs 'apply->ops' on a connection that replicates only 'write_tables'
 * (the one that read the policy is closed: the server does not send it back
 * what is written).  Returns the connection, for --wait, or NULL with
 * '*retry' true if another client changed the policy since it was read. */
static struct policy_db *
write_apply(const struct vmroam_ctx *ctx, struct apply *apply, bool *retry)
{
    *retry = false;
    struct policy_db *db = vmroam_connect_tables(ctx, write_tables);
    struct json *ops = apply->ops;
    apply->ops = NULL;
    if (!db) {
        json_destroy(ops);
        return NULL;
    }
    char *error = NULL;
    struct json *results = policy_db_execute(db, ops, &error);
    char *failed = results ? policy_op_error(results) : NULL;
    json_destroy(results);
    /* The generation's check is the first operation, and the only wait. */
    *retry = policy_op_wait_failed(failed);
    if (!error && failed && !*retry) {
        error = policy_db_refused(db->remote,
                                  !strncmp(failed, "permission error", 16),
                                  failed);
    }
    bool written = !error && !failed;
    if (error) {
        fprintf(stderr, "vmroam: %s\n", error);
    }
    free(error);
    free(failed);
    if (!written) {
        policy_db_close(db);
        db = NULL;
    }
    return db;
}

/* Finds the change with 'plan' from what 'apply' replicates, and writes it
 * in a transaction of its own, again from fresh contents as long as another
 * client changes the policy in between. */
static int
transact_apply(const struct vmroam_ctx *ctx, struct apply *apply,
               void (*plan)(struct policy_db *, struct apply *),
               const char *what)
{
    struct policy_db *db = NULL;
    for (bool retry = true; retry; ) {
        db = vmroam_connect_tables(ctx, apply->tables);
        if (!db) {
            return VMROAM_EXIT_FAILURE;
        }
        apply->stale = false;
        plan(db, apply);
        policy_db_close(db);
        db = NULL;
        if (apply->stale) {
            continue;
        }
        if (apply->failed || apply->refused) {
            json_destroy(apply->ops);
            return (apply->failed ? VMROAM_EXIT_FAILURE
                    : VMROAM_EXIT_BAD_INPUT);
        }
        retry = false;
        if (apply->ops) {
            db = write_apply(ctx, apply, &retry);
            if (!db && !retry) {
                return VMROAM_EXIT_FAILURE;
            }
        }
    }

    fputs(ds_cstr(&apply->report), stdout);
    if (!apply->changed) {
        printf("no changes: the database already holds %s "
               "(generation %"PRId64")\n", what, apply->generation);
    } else if (apply->commit) {
        printf("applied %s: generation %"PRId64"\n", what,
               apply->generation);
    } else {
        printf("%s would make generation %"PRId64"%s\n", what,
               apply->generation, ctx->dry_run ? " (dry run: nothing "
               "was changed)" : "");
    }
    int status = (db && ctx->wait
                  ? wait_applied(db, apply->generation) : VMROAM_EXIT_OK);
    policy_db_close(db);
    return status;
}

static int
run_apply(const struct vmroam_ctx *ctx, const char *file, bool commit)
{
    struct policy policy;
    if (!load_file(file, &policy)) {
        policy_destroy(&policy);
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct apply apply = {
        .file = &policy,
        .commit = commit,
        .tables = small_tables,
        .report = DS_EMPTY_INITIALIZER,
        .max_listed = ctx->verbose ? SIZE_MAX : MAX_LISTED_CHANGES,
    };
    int status = transact_apply(ctx, &apply, plan_apply, file);
    ds_destroy(&apply.report);
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
    struct policy_db *db = vmroam_connect_tables(ctx, small_tables);
    if (!db) {
        policy_init(policy);
        return -1;
    }
    bool changed;
    int64_t generation = (read_policy(db, policy, &changed)
                          ? policy_db_generation(db->idl) : -1);
    policy_db_close(db);
    if (changed) {
        /* Read again, at the generation it changed to. */
        policy_destroy(policy);
        return load_db(ctx, policy);
    }
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

/* A change of one lookup record, given on the command line. */
struct record_change {
    struct apply apply;
    struct policy_lookup_record *record;    /* The new one, for set-record. */
    int64_t vsid;
    const char *ca;                         /* Canonical. */
    struct in6_addr ca_a;
    struct svec errors;                     /* Why the last attempt could
                                             * not be made. */
};

/* Parses the record that --vsid, --ca, --mac, --pa, --host and --vm give,
 * as a policy file's, into 'one'.  Prints what is wrong and returns false
 * if anything is. */
static bool
parse_record_options(const struct vmroam_ctx *ctx, struct policy *one)
{
    static const char *const fields[] = { "ca", "mac", "pa", "host", "vm" };
    struct json *record = json_object_create();
    const char *vsid = smap_get(&ctx->opts, "vsid");
    if (vsid) {
        char *end;
        long long int n = strtoll(vsid, &end, 10);
        json_object_put(record, "vsid", (*end || !*vsid
                                         ? json_string_create(vsid)
                                         : json_integer_create(n)));
    }
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const char *v = smap_get(&ctx->opts, fields[i]);
        if (v) {
            json_object_put_string(record, fields[i], v);
        }
    }
    struct json *file = json_object_create();
    json_object_put(file, "lookup_records", json_array_create_1(record));
    struct svec errors = SVEC_EMPTY_INITIALIZER;
    policy_init(one);
    bool ok = policy_from_json(file, "the command line", one, &errors);
    for (size_t i = 0; i < errors.n; i++) {
        fprintf(stderr, "%s\n", errors.names[i]);
    }
    svec_destroy(&errors);
    json_destroy(file);
    return ok && policy_n_items(one, POLICY_LOOKUP_RECORDS) == 1;
}

/* The index of the record of ('vsid', 'ca') in 'p', or SIZE_MAX. */
static size_t
find_record(const struct policy *p, int64_t vsid, const char *ca)
{
    for (size_t i = 0; i < p->n_records; i++) {
        if (p->records[i].vsid == vsid && !strcmp(p->records[i].ca, ca)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Rewrites the paths of lookup records in the errors listed ("lookup_
 * records[3]", an index in 'p') into words: the records came from the
 * database, not from a file. */
static void
name_records(struct svec *errors, const struct policy *p)
{
    for (size_t e = 0; e < MIN(errors->n, MAX_LISTED_CHANGES); e++) {
        for (size_t i = 0; i < p->n_records; i++) {
            char *path = xasprintf("lookup_records[%"PRIuSIZE"]", i);
            char *name = xasprintf("the record of %s in VSID %"PRId64,
                                   p->records[i].ca, p->records[i].vsid);
            char *at;
            while ((at = strstr(errors->names[e], path))) {
                char *text = xasprintf("%.*s%s%s",
                                       (int) (at - errors->names[e]),
                                       errors->names[e], name,
                                       at + strlen(path));
                free(errors->names[e]);
                errors->names[e] = text;
            }
            free(path);
            free(name);
        }
    }
}

/* Adds to 'p' a copy of 'r', from the same row. */
static void
add_record_copy(struct policy *p, const struct policy_lookup_record *r)
{
    *policy_add_lookup_record(p) = (struct policy_lookup_record) {
        .origin = { .row = r->origin.row },
        .vsid = r->vsid, .ca = xstrdup(r->ca), .mac = xstrdup(r->mac),
        .pa = xstrdup(r->pa), .host = xstrdup(r->host),
        .vm = nullable_xstrdup(r->vm), .ca_a = r->ca_a, .mac_e = r->mac_e,
        .pa_a = r->pa_a,
    };
}

/* Adds to 'p' the lookup records that the results from 'first' on hold
 * (selects of policy_db_record_columns()), unless 'seen' holds them. */
static bool
add_records(struct policy *p, const struct json *results, size_t first,
            struct uuidset *seen)
{
    for (size_t i = first; i < json_array(results)->n; i++) {
        const struct json_array *rows = policy_op_rows(results, i);
        for (size_t j = 0; rows && j < rows->n; j++) {
            struct policy_lookup_record r;
            if (!policy_db_record_from_json(rows->elems[j], &r)) {
                return false;
            }
            if (uuidset_find(seen, &r.origin.row)) {
                policy_tables[POLICY_LOOKUP_RECORDS].destroy(&r);
            } else {
                uuidset_insert(seen, &r.origin.row);
                *policy_add_lookup_record(p) = r;
            }
        }
        if (!rows) {
            return false;
        }
    }
    return true;
}

/* Selects of lookup records, to which to append them, that read nothing if
 * the policy changed since 'db''s IDL read it. */
static struct json *
record_ops(const struct policy_db *db)
{
    struct json *ops = policy_ops_create();
    json_array_add(ops, policy_db_generation_wait(db->idl));
    return ops;
}

/* Runs 'ops' (from record_ops()) and adds the records they find to 'p',
 * unless 'seen' holds them.  Returns false if reading failed, saying why on
 * stderr, or if the policy changed since 'db''s IDL read it ('*stale'). */
static bool
read_records(struct policy_db *db, struct json *ops, struct policy *p,
             struct uuidset *seen, bool *stale)
{
    char *error = NULL;
    struct json *results = policy_db_execute(db, ops, &error);
    char *failed = results ? policy_op_error(results) : NULL;
    *stale = policy_op_wait_failed(failed);
    bool ok = results && !failed && add_records(p, results, 1, seen);
    if (!ok && !*stale) {
        fprintf(stderr, "vmroam: reading lookup records failed: %s\n",
                error ? error : failed ? failed : "unexpected reply");
    }
    free(failed);
    free(error);
    json_destroy(results);
    return ok;
}

/* Adds to 'ops' a select of the lookup records that meet 'a' and 'b'. */
static void
add_select(struct json *ops, struct json *a, struct json *b)
{
    json_array_add(ops, policy_op_select("Lookup_Record",
                                         json_array_create_2(a, b),
                                         policy_db_record_columns()));
}

/* Adds to 'p' the lookup records that setting or removing the record of
 * 'rc' can collide with: that record itself, read by its key, and, if 'rc'
 * gives it another MAC or another PA or host, those with its MAC in its
 * VSID and those with its PA on another host, which only a scan of the
 * table finds. */
static bool
read_colliding(struct policy_db *db, const struct record_change *rc,
               struct policy *p, bool *stale)
{
    struct uuidset seen = UUIDSET_INITIALIZER(&seen);
    struct uuid key;
    policy_key_record(rc->vsid, &rc->ca_a, &key);
    struct json *ops = record_ops(db);
    json_array_add(ops, policy_op_select("Lookup_Record",
                                         policy_op_where_uuid(&key),
                                         policy_db_record_columns()));
    size_t n = p->n_records;
    bool ok = read_records(db, ops, p, &seen, stale);

    const struct policy_lookup_record *r = rc->record;
    const struct policy_lookup_record *old = (ok && p->n_records > n
                                              ? &p->records[n] : NULL);
    if (ok && r) {
        ops = record_ops(db);
        if (!old || strcmp(old->mac, r->mac)) {
            add_select(ops, policy_op_clause("vsid", "==",
                                   json_integer_create(r->vsid)),
                       policy_op_clause("mac", "==", json_string_create(r->mac)));
        }
        if (!old || strcmp(old->pa, r->pa) || strcmp(old->host, r->host)) {
            add_select(ops, policy_op_clause("pa", "==", json_string_create(r->pa)),
                       policy_op_clause("chassis", "!=", json_string_create(r->host)));
        }
        ok = read_records(db, ops, p, &seen, stale);
    }
    uuidset_destroy(&seen);
    return ok;
}

/* Makes the database's policy, as far as 'db' replicates it (every small
 * table) and read_colliding() reads it, what it is with the record set or
 * removed; checks the result as a policy file is checked, and plans to
 * write only what differs. */
static void
plan_record(struct policy_db *db, struct apply *apply)
{
    struct record_change *rc = CONTAINER_OF(apply, struct record_change,
                                            apply);
    struct policy current, desired;
    policy_init(&current);
    policy_init(&desired);
    svec_clear(&rc->errors);
    policy_db_load(db->idl, &current);
    if (!read_colliding(db, rc, &current, &rc->apply.stale)) {
        rc->apply.failed = !rc->apply.stale;
        policy_destroy(&current);
        policy_destroy(&desired);
        return;
    }
    policy_db_load(db->idl, &desired);
    for (size_t j = 0; j < current.n_records; j++) {
        add_record_copy(&desired, &current.records[j]);
    }
    policy_canonicalize(&current);

    size_t i = find_record(&desired, rc->vsid, rc->ca);
    if (i != SIZE_MAX) {
        policy_remove(&desired, POLICY_LOOKUP_RECORDS, i);
    } else if (!rc->record) {
        svec_add_nocopy(&rc->errors, xasprintf(
                            "no lookup record for %s in VSID %"PRId64,
                            rc->ca, rc->vsid));
    }
    if (rc->record) {
        add_record_copy(&desired, rc->record);
    }
    policy_canonicalize(&desired);
    for (size_t j = 0; j < desired.n_records; j++) {
        desired.records[j].origin.index = j;
    }
    policy_validate(&desired, "the database with this change", &rc->errors);
    name_records(&rc->errors, &desired);
    rc->apply.refused = rc->errors.n > 0;
    if (!rc->apply.refused) {
        plan_policy(db->idl, &rc->apply, &current, &desired);
    }
    policy_destroy(&desired);
    policy_destroy(&current);
}

static int
change_record(const struct vmroam_ctx *ctx, struct record_change *rc)
{
    rc->apply = (struct apply) {
        .commit = !ctx->dry_run, .report = DS_EMPTY_INITIALIZER,
        .max_listed = SIZE_MAX, .tables = small_tables,
    };
    svec_init(&rc->errors);
    char *what = xasprintf("the record of %s in VSID %"PRId64, rc->ca,
                           rc->vsid);
    int status = transact_apply(ctx, &rc->apply, plan_record, what);
    if (rc->errors.n) {
        /* Many records may collide with one (all those on a PA given to
         * another host): the first few say enough. */
        for (size_t i = 0; i < MIN(rc->errors.n, MAX_LISTED_CHANGES); i++) {
            fprintf(stderr, "%s\n", rc->errors.names[i]);
        }
        if (rc->errors.n > MAX_LISTED_CHANGES) {
            fprintf(stderr, "... and %"PRIuSIZE" more\n",
                    rc->errors.n - MAX_LISTED_CHANGES);
        }
        fprintf(stderr, "nothing was changed\n");
        status = VMROAM_EXIT_BAD_INPUT;
    }
    free(what);
    svec_destroy(&rc->errors);
    ds_destroy(&rc->apply.report);
    return status;
}

static int
policy_set_record_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                      char *argv[] OVS_UNUSED)
{
    struct policy one;
    if (!parse_record_options(ctx, &one)) {
        policy_destroy(&one);
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct record_change rc = {
        .record = &one.records[0], .vsid = one.records[0].vsid,
        .ca = one.records[0].ca, .ca_a = one.records[0].ca_a,
    };
    int status = change_record(ctx, &rc);
    policy_destroy(&one);
    return status;
}

static int
policy_del_record_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                      char *argv[] OVS_UNUSED)
{
    long long int vsid = 0;
    const char *ca_opt = smap_get(&ctx->opts, "ca");
    struct in6_addr a;
    char *ca = ca_opt ? xstrdup(ca_opt) : NULL;
    char *error = ca ? policy_parse_addr(&ca, &a) : NULL;
    if (!vmroam_number_opt(ctx, "vsid", 4096, 16777214, &vsid) || vsid <= 0
        || !ca || error) {
        fprintf(stderr, "vmroam policy del-record: give --vsid N and --ca "
                "ADDRESS%s%s\n", error ? ": " : "", error ? error : "");
        free(error);
        free(ca);
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct record_change rc = { .vsid = vsid, .ca = ca, .ca_a = a };
    int status = change_record(ctx, &rc);
    free(ca);
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
    {.name = "policy set-record",
     .args = "--vsid N --ca A --mac M --pa P --host H [--vm V] [--dry-run] "
             "[--wait]",
     .summary = "add or change one lookup record, checked as a policy file "
                "is, reading and writing only what it touches",
     .options = "vsid ca mac pa host vm dry-run wait",
     .min_args = 0, .max_args = 0, .run = policy_set_record_cmd},
    {.name = "policy del-record",
     .args = "--vsid N --ca A [--dry-run] [--wait]",
     .summary = "remove one lookup record",
     .options = "vsid ca dry-run wait",
     .min_args = 0, .max_args = 0, .run = policy_del_record_cmd},
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
