#include <config.h>

#include "policy/db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "ovsdb-session.h"
#include "policy/diff.h"
#include "policy/key.h"
#include "policy/ops.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "svec.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(policy_db);

/* Runs 'idl' until its contents change from 'seqno' or 'deadline' passes.
 * Returns false, with a message in '*errorp', on timeout or a fatal IDL
 * error. */
static bool
wait_for_change(struct ovsdb_idl *idl, unsigned int seqno,
                long long int deadline, const char *remote, char **errorp)
{
    for (;;) {
        ovsdb_idl_run(idl);
        if (!ovsdb_idl_is_alive(idl)) {
            *errorp = xasprintf("%s: database connection failed (%s)",
                                remote, ovs_retval_to_string(
                                    ovsdb_idl_get_last_error(idl)));
            return false;
        }
        if (ovsdb_idl_get_seqno(idl) != seqno) {
            return true;
        }
        if (time_msec() >= deadline) {
            int error = ovsdb_idl_get_last_error(idl);
            bool ssl = strstr(remote, "ssl:") != NULL;
            *errorp = xasprintf("%s: no answer from the vmroam database%s%s "
                                "(is it running?%s)", remote,
                                error ? ": " : "",
                                error ? ovs_retval_to_string(error) : "",
                                ssl ? " does its CA trust the certificate "
                                "given by --certificate, and ours by "
                                "--ca-cert its own?"
                                : " \"vmroam db start\" starts the embedded "
                                "one");
            return false;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static void
omit_tables(struct ovsdb_idl *idl,
            const struct ovsdb_idl_table_class *const tables[], size_t n)
{
    for (size_t t = 0; t < n; t++) {
        for (size_t i = 0; i < tables[t]->n_columns; i++) {
            ovsdb_idl_omit(idl, &tables[t]->columns[i]);
        }
    }
}

/* Leaves out of 'idl' the tables that say who may write what: no client
 * but the one that writes them needs them, and the server updates the
 * listeners' status every few seconds. */
static void
omit_access(struct ovsdb_idl *idl)
{
    static const struct ovsdb_idl_table_class *const tables[] = {
        &vmroamrec_table_connection, &vmroamrec_table_rbac_role,
        &vmroamrec_table_rbac_permission,
    };
    omit_tables(idl, tables, ARRAY_SIZE(tables));
    ovsdb_idl_omit(idl, &vmroamrec_vmroam_global_col_connections);
}

/* Leaves out of an agent's 'idl' what only the command line reads: the CA
 * pools and leases (a lease for each address given out, as many as the
 * lookup records), the footprints and the plans, besides who may write
 * what. */
void
policy_db_omit_for_agent(struct ovsdb_idl *idl)
{
    static const struct ovsdb_idl_table_class *const tables[] = {
        &vmroamrec_table_ca_pool, &vmroamrec_table_ca_lease,
        &vmroamrec_table_footprint, &vmroamrec_table_plan,
        &vmroamrec_table_plan_item,
    };
    omit_access(idl);
    omit_tables(idl, tables, ARRAY_SIZE(tables));
}

/* Makes 'idl', connected to 'remote', use only the leader of a clustered
 * database when 'remote' lists several servers ("ssl:A,ssl:B,ssl:C"), so
 * that what it reads is never behind.  A single remote, such as the local
 * unix socket of one member, is used whether that member leads or not:
 * there is no other server to go to, and a member sends the writes it is
 * given to the leader. */
void
policy_db_set_leader_only(struct ovsdb_idl *idl, const char *remote)
{
    ovsdb_idl_set_leader_only(idl, strchr(remote, ',') != NULL);
}

/* Connects to the vmroam database at 'remote' and waits for its contents.
 * 'tables', if nonnull, is a null-terminated list of the only tables to
 * replicate: a client about migrations need not load a million lookup
 * records.  'records', if nonnull, is the condition the lookup records
 * replicated meet. */
struct policy_db *
policy_db_connect(const char *remote, int timeout_ms,
                  const struct ovsdb_idl_table_class *const *tables,
                  const struct ovsdb_idl_condition *records, char **errorp)
{
    struct policy_db *db = xmalloc(sizeof *db);
    db->idl = ovsdb_idl_create(remote, &vmroamrec_idl_class, !tables, true);
    if (!tables) {
        omit_access(db->idl);
    }
    for (; tables && *tables; tables++) {
        for (size_t i = 0; i < (*tables)->n_columns; i++) {
            ovsdb_idl_add_column(db->idl, &(*tables)->columns[i]);
        }
    }
    if (records) {
        vmroamrec_lookup_record_set_condition(
            db->idl, CONST_CAST(struct ovsdb_idl_condition *, records));
    }
    db->remote = xstrdup(remote);
    db->timeout_ms = timeout_ms;
    db->rpc = NULL;
    policy_db_set_leader_only(db->idl, remote);
    if (!wait_for_change(db->idl, ovsdb_idl_get_seqno(db->idl),
                         time_msec() + timeout_ms, remote, errorp)) {
        policy_db_close(db);
        return NULL;
    }
    return db;
}

void
policy_db_close(struct policy_db *db)
{
    if (db) {
        ovsdb_idl_destroy(db->idl);
        jsonrpc_session_close(db->rpc);
        free(db->remote);
        free(db);
    }
}

/* Runs 'ops' (from policy_ops_create(), which this takes) as one
 * transaction on the vmroam database, outside the IDL: for the rows of
 * tables too large to replicate, read and written by key (policy/key.h).
 * Returns the operations' results (an operation that failed has its error
 * there, as OVSDB reports it), or NULL with the reason in '*errorp'. */
struct json *
policy_db_execute(struct policy_db *db, struct json *ops, char **errorp)
{
    if (!db->rpc) {
        struct svec remotes = SVEC_EMPTY_INITIALIZER;
        struct uuid cid;        /* A cluster's id, which is not checked. */
        ovsdb_session_parse_remote(db->remote, &remotes, &cid);
        db->rpc = jsonrpc_session_open_multiple(&remotes, true);
        svec_destroy(&remotes);
    }

    struct jsonrpc_msg *request = jsonrpc_create_request("transact", ops,
                                                         NULL);
    long long int deadline = time_msec() + db->timeout_ms;
    unsigned int sent_seqno = 0;
    struct json *result = NULL;
    *errorp = NULL;
    while (!result && !*errorp) {
        jsonrpc_session_run(db->rpc);
        unsigned int seqno = jsonrpc_session_get_seqno(db->rpc);
        struct jsonrpc_msg *msg = NULL;
        if (sent_seqno && seqno != sent_seqno) {
            /* Not sent again: it may have been committed. */
            *errorp = xasprintf("%s: the connection to the database broke "
                                "during a transaction", db->remote);
        } else if (!sent_seqno && jsonrpc_session_is_connected(db->rpc)) {
            jsonrpc_session_send(db->rpc, jsonrpc_msg_clone(request));
            sent_seqno = seqno;
        } else if ((msg = jsonrpc_session_recv(db->rpc))
                   && json_equal(msg->id, request->id)) {
            if (msg->type == JSONRPC_REPLY) {
                result = json_clone(msg->result);
            } else {
                char *why = (msg->error ? json_to_string(msg->error, 0)
                             : xstrdup("no reason given"));
                *errorp = xasprintf("%s: the database refused a "
                                    "transaction: %s", db->remote, why);
                free(why);
            }
        } else if (time_msec() >= deadline) {
            *errorp = xasprintf("%s: no answer from the vmroam database "
                                "within %d ms", db->remote, db->timeout_ms);
        } else if (!msg) {
            jsonrpc_session_wait(db->rpc);
            jsonrpc_session_recv_wait(db->rpc);
            poll_timer_wait_until(deadline);
            poll_block();
        }
        jsonrpc_msg_destroy(msg);
    }
    jsonrpc_msg_destroy(request);
    return result;
}

/* Makes ovsdb_idl_get_seqno() of 'idl' change only when the policy or the
 * PA leases change, not on every heartbeat or migration progress update of
 * the other tables, which stay replicated. */
void
policy_db_alert_policy_only(struct ovsdb_idl *idl)
{
    for (size_t t = 0; t < VMROAMREC_N_TABLES; t++) {
        const struct ovsdb_idl_table_class *tc = &vmroamrec_table_classes[t];
        bool policy = (t == VMROAMREC_TABLE_VMROAM_GLOBAL
                       || t == VMROAMREC_TABLE_PA_LEASE);
        for (enum policy_table pt = 0; pt < POLICY_N_TABLES; pt++) {
            policy |= !strcmp(tc->name, policy_tables[pt].name);
        }
        for (size_t c = 0; !policy && c < tc->n_columns; c++) {
            ovsdb_idl_omit_alert(idl, &tc->columns[c]);
        }
    }
}

/* Makes 'idl' track the changes to lookup records, which an agent applies
 * one by one. */
void
policy_db_track_records(struct ovsdb_idl *idl)
{
    for (size_t c = 0; c < VMROAMREC_LOOKUP_RECORD_N_COLUMNS; c++) {
        ovsdb_idl_track_add_column(idl, &vmroamrec_lookup_record_columns[c]);
    }
}

/* The Chassis row named 'name', or NULL. */
const struct vmroamrec_chassis *
policy_db_chassis(const struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_chassis *ch;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        if (name && !strcmp(ch->name, name)) {
            return ch;
        }
    }
    return NULL;
}

/* The VM row named 'name', or NULL. */
const struct vmroamrec_vm *
policy_db_vm(const struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_vm *vm;
    VMROAMREC_VM_FOR_EACH (vm, idl) {
        if (!strcmp(vm->name, name)) {
            return vm;
        }
    }
    return NULL;
}

/* An index of the lookup records by VM, so that finding one VM's records
 * does not read them all (a million at scale).  The IDL only indexes rows
 * that arrive after this, so call it right after creating 'idl'. */
struct ovsdb_idl_index *
policy_db_index_records(struct ovsdb_idl *idl)
{
    return ovsdb_idl_index_create1(idl, &vmroamrec_lookup_record_col_vm);
}

/* Sets '*recordsp' to a new array of the lookup records of 'vm', through
 * an index from policy_db_index_records(), and returns how many there are.
 * The caller frees the array. */
size_t
policy_db_vm_records(struct ovsdb_idl_index *records, const char *vm,
                     const struct vmroamrec_lookup_record ***recordsp)
{
    struct vmroamrec_lookup_record *key
        = vmroamrec_lookup_record_index_init_row(records);
    vmroamrec_lookup_record_index_set_vm(key, vm);

    const struct vmroamrec_lookup_record **found = NULL;
    size_t n = 0, allocated = 0;
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH_EQUAL (r, key, records) {
        if (n >= allocated) {
            found = x2nrealloc(found, &allocated, sizeof *found);
        }
        found[n++] = r;
    }
    vmroamrec_lookup_record_index_destroy_row(key);
    *recordsp = found;
    return n;
}

int64_t
policy_db_generation(const struct ovsdb_idl *idl)
{
    const struct vmroamrec_vmroam_global *g
        = vmroamrec_vmroam_global_first(idl);
    return g ? g->generation : 0;
}

/* Fills in the parsed form of a field read from the database.  The database
 * holds canonical text written by vmroam; anything else was written around
 * it, and is kept as it is (and logged) rather than lost. */
static void
load_field(const char *table, const char *field, char *(*parse)(char **,
                                                                void *),
           char **text, void *parsed)
{
    char *error = parse(text, parsed);
    if (error) {
        VLOG_WARN("%s.%s in the database: %s", table, field, error);
        free(error);
    }
}

#define LOAD(TABLE, FIELD, PARSE, TEXT, PARSED)                          \
    load_field(TABLE, FIELD, (char *(*)(char **, void *)) (PARSE),      \
               TEXT, PARSED)

static void
set_origin(struct policy_origin *o, const struct ovsdb_idl_row *row)
{
    o->row = row->uuid;
}

static void
load_routing_domains(struct ovsdb_idl *idl, struct policy *p)
{
    const struct vmroamrec_routing_domain *row;
    VMROAMREC_ROUTING_DOMAIN_FOR_EACH (row, idl) {
        struct policy_routing_domain *rd = policy_add_routing_domain(p);
        set_origin(&rd->origin, &row->header_);
        rd->name = xstrdup(row->name);
    }
}

static void
load_virtual_subnets(struct ovsdb_idl *idl, struct policy *p)
{
    const struct vmroamrec_virtual_subnet *row;
    VMROAMREC_VIRTUAL_SUBNET_FOR_EACH (row, idl) {
        struct policy_virtual_subnet *vs = policy_add_virtual_subnet(p);
        set_origin(&vs->origin, &row->header_);
        vs->vsid = row->vsid;
        vs->routing_domain = xstrdup(row->routing_domain);
        vs->prefix = xstrdup(row->prefix);
        LOAD("Virtual_Subnet", "prefix", policy_parse_prefix, &vs->prefix,
             &vs->prefix_p);
        vs->gateway = nullable_xstrdup(row->gateway);
        if (vs->gateway) {
            LOAD("Virtual_Subnet", "gateway", policy_parse_addr,
                 &vs->gateway, &vs->gateway_a);
        }
    }
}

static void
load_provider_subnets(struct ovsdb_idl *idl, struct policy *p)
{
    const struct vmroamrec_provider_subnet *row;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (row, idl) {
        struct policy_provider_subnet *ps = policy_add_provider_subnet(p);
        set_origin(&ps->origin, &row->header_);
        ps->footprint = xstrdup(row->footprint);
        ps->prefix = xstrdup(row->prefix);
        LOAD("Provider_Subnet", "prefix", policy_parse_prefix, &ps->prefix,
             &ps->prefix_p);
        ps->gateway = nullable_xstrdup(row->gateway);
        if (ps->gateway) {
            LOAD("Provider_Subnet", "gateway", policy_parse_addr,
                 &ps->gateway, &ps->gateway_a);
        }
    }
}

/* Fills 'r' from a lookup record's columns, read from row 'uuid'. */
static void
read_record(const struct uuid *uuid, int64_t vsid, const char *ca,
            const char *mac, const char *pa, const char *chassis,
            const char *vm, struct policy_lookup_record *r)
{
    /* A field that does not parse stays zero, as in a full load. */
    memset(r, 0, sizeof *r);
    r->origin.row = *uuid;
    r->vsid = vsid;
    r->ca = xstrdup(ca);
    LOAD("Lookup_Record", "ca", policy_parse_addr, &r->ca, &r->ca_a);
    r->mac = xstrdup(mac);
    LOAD("Lookup_Record", "mac", policy_parse_mac, &r->mac, &r->mac_e);
    r->pa = xstrdup(pa);
    LOAD("Lookup_Record", "pa", policy_parse_addr, &r->pa, &r->pa_a);
    r->host = xstrdup(chassis);
    r->vm = nullable_xstrdup(vm);
}

/* Reads lookup record 'row' into 'r', which the lookup records' class
 * destroys. */
void
policy_db_read_record(const struct vmroamrec_lookup_record *row,
                      struct policy_lookup_record *r)
{
    read_record(&row->header_.uuid, row->vsid, row->ca, row->mac, row->pa,
                row->chassis, row->vm, r);
}

/* The columns of a lookup record that policy_db_record_from_json() reads,
 * for a select. */
struct json *
policy_db_record_columns(void)
{
    return policy_op_columns("_uuid", "vsid", "ca", "mac", "pa", "chassis",
                             "vm", NULL);
}

static const char *
json_text(const struct shash *row, const char *column)
{
    const struct json *j = shash_find_data(row, column);
    return j && j->type == JSON_STRING ? json_string(j) : NULL;
}

/* A check that fails the transaction ("timed out") unless the policy
 * generation is still the one 'idl' read. */
struct json *
policy_db_generation_wait(const struct ovsdb_idl *idl)
{
    struct json *rows = json_array_create_empty();
    if (vmroamrec_vmroam_global_first(idl)) {
        struct json *was = json_object_create();
        json_object_put(was, "generation",
                        json_integer_create(policy_db_generation(idl)));
        json_array_add(rows, was);
    }
    return policy_op_wait("Vmroam_Global", json_array_create_empty(),
                          policy_op_columns("generation", NULL), rows);
}

/* Adds every lookup record to 'p' (then canonicalized), read by one select
 * on the server rather than replicated: about half the time at a million
 * records, and nothing kept afterwards.  The records are those of the
 * generation that 'db''s IDL holds: if the policy changed since, this
 * reads nothing and sets '*changed'. */
bool
policy_db_select_records(struct policy_db *db, struct policy *p,
                         bool *changed, char **errorp)
{
    struct json *ops = policy_ops_create();
    json_array_add(ops, policy_db_generation_wait(db->idl));
    json_array_add(ops, policy_op_select("Lookup_Record",
                                         json_array_create_empty(),
                                         policy_db_record_columns()));
    struct json *results = policy_db_execute(db, ops, errorp);
    const struct json_array *rows = (results ? policy_op_rows(results, 1)
                                     : NULL);
    for (size_t i = 0; rows && i < rows->n; i++) {
        struct policy_lookup_record r;
        if (policy_db_record_from_json(rows->elems[i], &r)) {
            *policy_add_lookup_record(p) = r;
        } else {
            rows = NULL;
        }
    }
    char *failed = results && !rows ? policy_op_error(results) : NULL;
    *changed = policy_op_wait_failed(failed);
    if (results && !rows && !*changed) {
        *errorp = policy_op_failure(results, "reading the lookup records");
    }
    free(failed);
    json_destroy(results);
    policy_canonicalize(p);
    return !*errorp && !*changed;
}

/* Fills 'r' from 'row', a lookup record as a select of
 * policy_db_record_columns() returns it.  Returns false if 'row' is not
 * one. */
bool
policy_db_record_from_json(const struct json *row,
                           struct policy_lookup_record *r)
{
    const struct shash *o = json_object(row);
    const struct json *uuid = shash_find_data(o, "_uuid");
    const struct json *vsid = shash_find_data(o, "vsid");
    struct uuid u;
    const char *ca = json_text(o, "ca"), *mac = json_text(o, "mac");
    const char *pa = json_text(o, "pa"), *chassis = json_text(o, "chassis");
    if (!uuid || uuid->type != JSON_ARRAY || json_array(uuid)->n != 2
        || json_array(uuid)->elems[1]->type != JSON_STRING
        || !uuid_from_string(&u, json_string(json_array(uuid)->elems[1]))
        || !vsid || vsid->type != JSON_INTEGER
        || !ca || !mac || !pa || !chassis) {
        return false;
    }
    read_record(&u, json_integer(vsid), ca, mac, pa, chassis,
                json_text(o, "vm"), r);
    return true;
}

static void
load_lookup_records(struct ovsdb_idl *idl, struct policy *p)
{
    const struct vmroamrec_lookup_record *row;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (row, idl) {
        policy_db_read_record(row, policy_add_lookup_record(p));
    }
}

static void
load_customer_routes(struct ovsdb_idl *idl, struct policy *p)
{
    const struct vmroamrec_customer_route *row;
    VMROAMREC_CUSTOMER_ROUTE_FOR_EACH (row, idl) {
        struct policy_customer_route *cr = policy_add_customer_route(p);
        set_origin(&cr->origin, &row->header_);
        cr->routing_domain = xstrdup(row->routing_domain);
        cr->prefix = xstrdup(row->prefix);
        LOAD("Customer_Route", "prefix", policy_parse_prefix, &cr->prefix,
             &cr->prefix_p);
        cr->next_hop = xstrdup(row->next_hop);
        LOAD("Customer_Route", "next_hop", policy_parse_addr, &cr->next_hop,
             &cr->next_hop_a);
        cr->metric = row->metric;
    }
}

/* Reads the policy tables of 'idl' into 'p', in canonical order. */
void
policy_db_load(struct ovsdb_idl *idl, struct policy *p)
{
    load_routing_domains(idl, p);
    load_virtual_subnets(idl, p);
    load_provider_subnets(idl, p);
    load_lookup_records(idl, p);
    load_customer_routes(idl, p);
    policy_canonicalize(p);
}

/* The database row of each kind of policy item, as OVSDB JSON: every
 * column the policy sets, so that an update clears what the item lacks. */
static struct json *
routing_domain_row(const void *item)
{
    const struct policy_routing_domain *rd = item;
    struct json *row = json_object_create();
    json_object_put_string(row, "name", rd->name);
    return row;
}

static struct json *
virtual_subnet_row(const void *item)
{
    const struct policy_virtual_subnet *vs = item;
    struct json *row = json_object_create();
    json_object_put(row, "vsid", json_integer_create(vs->vsid));
    json_object_put_string(row, "routing_domain", vs->routing_domain);
    json_object_put_string(row, "prefix", vs->prefix);
    json_object_put(row, "gateway", policy_op_optional_string(vs->gateway));
    return row;
}

static struct json *
provider_subnet_row(const void *item)
{
    const struct policy_provider_subnet *ps = item;
    struct json *row = json_object_create();
    json_object_put_string(row, "prefix", ps->prefix);
    json_object_put_string(row, "footprint", ps->footprint);
    json_object_put(row, "gateway", policy_op_optional_string(ps->gateway));
    return row;
}

static struct json *
lookup_record_row(const void *item)
{
    const struct policy_lookup_record *r = item;
    struct json *row = json_object_create();
    json_object_put(row, "vsid", json_integer_create(r->vsid));
    json_object_put_string(row, "ca", r->ca);
    json_object_put_string(row, "mac", r->mac);
    json_object_put_string(row, "pa", r->pa);
    json_object_put_string(row, "chassis", r->host);
    json_object_put(row, "vm", policy_op_optional_string(r->vm));
    return row;
}

static struct json *
customer_route_row(const void *item)
{
    const struct policy_customer_route *cr = item;
    struct json *row = json_object_create();
    json_object_put_string(row, "routing_domain", cr->routing_domain);
    json_object_put_string(row, "prefix", cr->prefix);
    json_object_put_string(row, "next_hop", cr->next_hop);
    json_object_put(row, "metric", json_integer_create(cr->metric));
    return row;
}

/* The database table behind each policy table. */
static const struct {
    const struct ovsdb_idl_table_class *class;
    struct json *(*row)(const void *item);
} db_tables[POLICY_N_TABLES] = {
    [POLICY_ROUTING_DOMAINS] = {
        &vmroamrec_table_classes[VMROAMREC_TABLE_ROUTING_DOMAIN],
        routing_domain_row },
    [POLICY_VIRTUAL_SUBNETS] = {
        &vmroamrec_table_classes[VMROAMREC_TABLE_VIRTUAL_SUBNET],
        virtual_subnet_row },
    [POLICY_PROVIDER_SUBNETS] = {
        &vmroamrec_table_classes[VMROAMREC_TABLE_PROVIDER_SUBNET],
        provider_subnet_row },
    [POLICY_LOOKUP_RECORDS] = {
        &vmroamrec_table_classes[VMROAMREC_TABLE_LOOKUP_RECORD],
        lookup_record_row },
    [POLICY_CUSTOMER_ROUTES] = {
        &vmroamrec_table_classes[VMROAMREC_TABLE_CUSTOMER_ROUTE],
        customer_route_row },
};

/* Changes when a policy table other than the lookup records changes (the
 * tables a record's flows depend on): a number to compare with the one of
 * another time. */
unsigned int
policy_db_structure_seqno(const struct ovsdb_idl *idl)
{
    unsigned int seqno = 0;
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        if (t != POLICY_LOOKUP_RECORDS) {
            seqno = MAX(seqno, ovsdb_idl_table_get_seqno(idl,
                                                         db_tables[t].class));
        }
    }
    return seqno;
}

/* The key of 'row' (of the lookup records or the CA leases) in '*key'. */
static bool
row_key(const struct ovsdb_idl_row *row, struct uuid *key)
{
    struct in6_addr a;
    char *error;
    if (row->table->class_ == &vmroamrec_table_lookup_record) {
        const struct vmroamrec_lookup_record *r
            = CONTAINER_OF(row, struct vmroamrec_lookup_record, header_);
        error = policy_addr_parse(r->ca, &a);
        if (!error) {
            policy_key_record(r->vsid, &a, key);
        }
    } else {
        const struct vmroamrec_ca_lease *l
            = CONTAINER_OF(row, struct vmroamrec_ca_lease, header_);
        error = policy_addr_parse(l->address, &a);
        if (!error) {
            policy_key_ca_lease(l->vsid, &a, key);
        }
    }
    free(error);
    return !error;
}

/* True if the database's lookup records and CA leases are keyed
 * (policy/key.h): every database that vmroam 1.6 or later created or
 * keyed. */
bool
policy_db_is_keyed(const struct ovsdb_idl *idl)
{
    const struct vmroamrec_vmroam_global *g
        = vmroamrec_vmroam_global_first(idl);
    return g && smap_get_bool(&g->external_ids, POLICY_DB_KEYED_ROWS, false);
}

/* Gives every lookup record and CA lease in 'idl' (which replicates them
 * whole, with the global row) its keyed UUID (policy/key.h), as a copy
 * under that UUID that replaces it in 'txn', and marks the database keyed:
 * for a database written before rows were keyed.  Returns how many rows it
 * replaces. */
size_t
policy_db_rekey(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn)
{
    static const struct ovsdb_idl_table_class *const keyed[] = {
        &vmroamrec_table_lookup_record, &vmroamrec_table_ca_lease,
    };
    size_t n = 0;
    for (size_t t = 0; t < ARRAY_SIZE(keyed); t++) {
        const struct ovsdb_idl_row *row;
        for (row = ovsdb_idl_first_row(idl, keyed[t]); row;
             row = ovsdb_idl_next_row(row)) {
            struct uuid key;
            if (!row_key(row, &key) || uuid_equals(&key, &row->uuid)) {
                continue;
            }
            const struct ovsdb_idl_row *copy
                = ovsdb_idl_txn_insert_persist_uuid(txn, keyed[t], &key);
            for (size_t c = 0; c < keyed[t]->n_columns; c++) {
                const struct ovsdb_idl_column *column = &keyed[t]->columns[c];
                ovsdb_idl_txn_write_clone(copy, column,
                                          ovsdb_idl_read(row, column));
            }
            ovsdb_idl_txn_delete(row);
            n++;
        }
    }
    const struct vmroamrec_vmroam_global *g
        = vmroamrec_vmroam_global_first(idl);
    if (g) {
        vmroamrec_vmroam_global_update_external_ids_setkey(
            g, POLICY_DB_KEYED_ROWS, "true");
    }
    return n;
}

/* Returns 'row' without its empty columns: a new row has them empty
 * anyway, and a million inserts parse faster without. */
static struct json *
without_empty(struct json *row)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, json_object(row)) {
        const struct json *v = node->data;
        const struct json *set = (v->type == JSON_ARRAY
                                  && json_array(v)->n == 2
                                  ? json_array(v)->elems[1] : NULL);
        if (set && set->type == JSON_ARRAY && !json_array(set)->n) {
            json_destroy(node->data);
            shash_delete(json_object(row), node);
        }
    }
    return row;
}

/* Appends to 'ops' (policy_ops_create()) every change of 'diff': an
 * insert, update or delete of a row.  The 'old' side of each change must
 * have been loaded by policy_db_load().  A new lookup record is keyed
 * (policy/key.h). */
void
policy_db_diff_ops(const struct policy_diff *diff, struct json *ops)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        const struct policy_diff_table *dt = &diff->tables[t];
        const char *table = db_tables[t].class->name;
        for (size_t i = 0; i < dt->n; i++) {
            const struct policy_change *ch = &dt->changes[i];
            /* Every item begins with its origin. */
            const struct policy_origin *old = ch->old;
            struct json *op;
            if (!old) {
                struct uuid key;
                const struct policy_lookup_record *r = ch->new;
                if (t == POLICY_LOOKUP_RECORDS) {
                    policy_key_record(r->vsid, &r->ca_a, &key);
                }
                op = policy_op_insert(table, (t == POLICY_LOOKUP_RECORDS
                                              ? &key : NULL),
                                      without_empty(
                                          db_tables[t].row(ch->new)));
            } else if (!ch->new) {
                op = policy_op("delete", table,
                               policy_op_where_uuid(&old->row));
            } else {
                op = policy_op("update", table,
                               policy_op_where_uuid(&old->row));
                json_object_put(op, "row", db_tables[t].row(ch->new));
            }
            json_array_add(ops, op);
        }
    }
}

/* Appends to 'ops' the increment of the policy generation that 'idl' read,
 * first checking that it is still that one: the transaction fails ("timed
 * out") if another client changed the policy since.  Returns the new
 * generation. */
int64_t
policy_db_generation_ops(const struct ovsdb_idl *idl, struct json *ops)
{
    int64_t generation = policy_db_generation(idl);
    struct json *row = json_object_create();
    json_object_put(row, "generation", json_integer_create(generation + 1));
    json_array_add(ops, policy_db_generation_wait(idl));
    if (vmroamrec_vmroam_global_first(idl)) {
        struct json *op = policy_op("update", "Vmroam_Global",
                                    json_array_create_empty());
        json_object_put(op, "row", row);
        json_array_add(ops, op);
    } else {
        json_array_add(ops, policy_op_insert("Vmroam_Global", NULL, row));
    }
    return generation + 1;
}

/* Increments the policy generation in 'txn', and makes the commit fail
 * (TXN_TRY_AGAIN) if another client changed it since 'idl' read it. */
int64_t
policy_db_bump_generation(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn)
{
    const struct vmroamrec_vmroam_global *g
        = vmroamrec_vmroam_global_first(idl);
    if (g) {
        vmroamrec_vmroam_global_verify_generation(g);
    } else {
        g = vmroamrec_vmroam_global_insert(txn);
    }
    int64_t generation = policy_db_generation(idl) + 1;
    vmroamrec_vmroam_global_set_generation(g, generation);
    return generation;
}

/* The policy generation chassis 'name' reports its flows reflect. */
int64_t
policy_db_generation_applied(const struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_chassis_private *cp;
    VMROAMREC_CHASSIS_PRIVATE_FOR_EACH (cp, idl) {
        if (!strcmp(cp->name, name)) {
            return cp->generation_applied;
        }
    }
    return 0;
}

/* Returns how many chassis that are up have not applied 'generation' yet,
 * and the number of chassis that are up in '*n_up'. */
static size_t
count_behind(struct ovsdb_idl *idl, int64_t generation, size_t *n_up)
{
    const struct vmroamrec_chassis *ch;
    size_t n_behind = 0;

    *n_up = 0;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        if (ch->state && !strcmp(ch->state, "up")) {
            (*n_up)++;
            n_behind += policy_db_generation_applied(idl, ch->name)
                        < generation;
        }
    }
    return n_behind;
}

/* Waits until every chassis that is up reports flows for 'generation'
 * installed (as "ovn-nbctl --wait=hv" does for OVN).  Stores the number of
 * such chassis in '*n_chassis'. */
bool
policy_db_wait_applied(struct policy_db *db, int64_t generation,
                       size_t *n_chassis, char **errorp)
{
    long long int deadline = time_msec() + db->timeout_ms;
    for (;;) {
        size_t n_behind = count_behind(db->idl, generation, n_chassis);
        if (!n_behind) {
            return true;
        }
        if (!wait_for_change(db->idl, ovsdb_idl_get_seqno(db->idl),
                             deadline, db->remote, errorp)) {
            free(*errorp);
            *errorp = xasprintf("%s: %"PRIuSIZE" of %"PRIuSIZE" chassis did "
                                "not apply generation %"PRId64" within %d ms",
                                db->remote, n_behind, *n_chassis, generation,
                                db->timeout_ms);
            return false;
        }
    }
}

/* Commits 'txn', waiting at most until 'deadline' (time_msec()). */
enum ovsdb_idl_txn_status
policy_db_commit_until(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                       long long int deadline)
{
    enum ovsdb_idl_txn_status status;
    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE
           && time_msec() < deadline) {
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    return status;
}

/* The message for a change that the database at 'remote' refused for
 * 'why'; a 'permission' error says who may write what. */
char *
policy_db_refused(const char *remote, bool permission, const char *why)
{
    return xasprintf("%s: the database refused the change: %s%s", remote,
                     why, (permission
                           ? " (an agent's certificate writes only what its "
                           "host reports; policy, IPAM, migrations and host "
                           "settings come from an administrator, on the "
                           "database's unix socket)" : ""));
}

/* Why the database refused 'txn', for a user: its own words, and who may
 * make the change when roles forbade it. */
static char *
txn_error(const char *remote, struct ovsdb_idl_txn *txn,
          enum ovsdb_idl_txn_status status)
{
    const char *error = ovsdb_idl_txn_get_error(txn);
    struct json *json = json_from_string(error);
    const struct json *details = (json->type == JSON_OBJECT
                                  ? shash_find_data(json_object(json),
                                                    "details")
                                  : NULL);
    char *msg;
    if (strstr(error, "permission error")) {
        msg = policy_db_refused(remote, true,
                                (details && details->type == JSON_STRING
                                 ? json_string(details) : error));
    } else {
        msg = xasprintf("%s: transaction failed: %s (%s)", remote,
                        ovsdb_idl_txn_status_to_string(status), error);
    }
    json_destroy(json);
    return msg;
}

bool
policy_db_transact(struct policy_db *db, policy_db_build_func *build,
                   void *aux, char **errorp)
{
    long long int deadline = time_msec() + db->timeout_ms;

    for (;;) {
        unsigned int seqno = ovsdb_idl_get_seqno(db->idl);
        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(db->idl);
        if (!build(db->idl, txn, aux)) {
            ovsdb_idl_txn_destroy(txn);
            return true;
        }

        enum ovsdb_idl_txn_status status = policy_db_commit_until(db->idl, txn,
                                                              deadline);
        /* Another client inserted a row with the same index key first (two
         * allocators picking the same free address): the database refused
         * ours, and the fresh contents will show why. */
        bool lost_race = (status == TXN_ERROR
                          && strstr(ovsdb_idl_txn_get_error(txn),
                                    "constraint violation"));
        if (lost_race) {
            status = TXN_TRY_AGAIN;
        }
        if (status == TXN_INCOMPLETE) {
            /* It was sent: the database may still commit it. */
            *errorp = xasprintf("%s: the database did not answer within "
                                "%d ms, so whether it committed the change "
                                "is unknown; read it back (e.g. \"vmroam "
                                "policy diff FILE\", \"vmroam migrations\") "
                                "before trying again", db->remote,
                                db->timeout_ms);
        } else if (status != TXN_SUCCESS && status != TXN_UNCHANGED
                   && status != TXN_TRY_AGAIN) {
            *errorp = txn_error(db->remote, txn, status);
        }
        ovsdb_idl_txn_destroy(txn);

        if (status != TXN_TRY_AGAIN) {
            return status == TXN_SUCCESS || status == TXN_UNCHANGED;
        }
        VLOG_INFO("%s: the database changed under us; rebuilding the "
                  "transaction", db->remote);
        /* A constraint the fresh contents do not explain within a second is
         * not a race: it is a real conflict. */
        long long int wait_until = (lost_race
                                    ? MIN(deadline, time_msec() + 1000)
                                    : deadline);
        if (!wait_for_change(db->idl, seqno, wait_until, db->remote,
                             errorp)) {
            return false;
        }
    }
}

/* $VMROAM_SSL_KEY, $VMROAM_SSL_CERT and $VMROAM_SSL_CA name the private
 * key, certificate and CA certificate for ssl: remotes, as --private-key,
 * --certificate and --ca-cert do.  Called after the options: they win,
 * and a key and its certificate always come from the same place. */
void
policy_db_ssl_from_environment(void)
{
    const char *key = getenv("VMROAM_SSL_KEY");
    const char *cert = getenv("VMROAM_SSL_CERT");
    const char *ca = getenv("VMROAM_SSL_CA");
    if (stream_ssl_is_configured()) {
        return;
    }
    if (key && cert) {
        stream_ssl_set_key_and_cert(key, cert);
    }
    if (ca) {
        stream_ssl_set_ca_cert_file(ca, false);
    }
}

/* The path of file 'name' of the embedded database's server (socket, pid
 * file, control socket, log): in 'state_dir', or /run/vmroam if NULL. */
char *
policy_db_run_path(const char *state_dir, const char *name)
{
    return xasprintf("%s/%s", state_dir ? state_dir : "/run/vmroam", name);
}

/* The remote of the embedded database: its unix socket. */
char *
policy_db_default_remote(const char *state_dir)
{
    char *sock = policy_db_run_path(state_dir, "db.sock");
    char *remote = xasprintf("unix:%s", sock);
    free(sock);
    return remote;
}
