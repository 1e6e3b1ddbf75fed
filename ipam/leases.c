#include <config.h>

#include "ipam/leases.h"

#include <string.h>

#include "ipam/pool.h"
#include "ipam/probe.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/key.h"
#include "policy/ops.h"
#include "policy/parse.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

/* A lease holds its address if it is active, or reserved and not expired. */
static bool
holds(const char *state, const int64_t *expires, size_t n_expires,
      long long int now)
{
    return (!strcmp(state, "active")
            || (!strcmp(state, "reserved")
                && (!n_expires || *expires > now)));
}

static void
add_text(struct ipam_addr_set *set, const char *text)
{
    struct in6_addr a;
    char *error = policy_addr_parse(text, &a);
    if (!error) {
        ipam_addr_set_add(set, &a);
    }
    free(error);
}

static const struct vmroamrec_virtual_subnet *
find_subnet(struct ovsdb_idl *idl, int64_t vsid)
{
    const struct vmroamrec_virtual_subnet *vs;
    VMROAMREC_VIRTUAL_SUBNET_FOR_EACH (vs, idl) {
        if (vs->vsid == vsid) {
            return vs;
        }
    }
    return NULL;
}

/* Fills 'pool' (initialized here) with the CA pool of 'vs': its prefix, the
 * ranges of its CA_Pool row if any, without its gateway and reserved
 * addresses. */
static char *
ca_pool(struct ovsdb_idl *idl, const struct vmroamrec_virtual_subnet *vs,
        struct ipam_pool *pool)
{
    const struct vmroamrec_ca_pool *cp, *row = NULL;
    VMROAMREC_CA_POOL_FOR_EACH (cp, idl) {
        if (cp->vsid == vs->vsid) {
            row = cp;
        }
    }

    char *name = xasprintf("VSID %"PRId64, vs->vsid);
    char *error = ipam_pool_build(pool, name, vs->prefix, vs->gateway,
                                  row ? row->ranges : NULL,
                                  row ? row->n_ranges : 0,
                                  row ? row->reserved : NULL,
                                  row ? row->n_reserved : 0);
    free(name);
    return error;
}

static void
pa_used(struct ovsdb_idl *idl, long long int now, struct ipam_addr_set *used)
{
    const struct vmroamrec_pa_lease *l;
    VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
        if (holds(l->state, l->expires, l->n_expires, now)) {
            add_text(used, l->address);
        }
    }
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, idl) {
        add_text(used, r->pa);
    }
}

static char *
pa_pool(const struct vmroamrec_provider_subnet *ps, struct ipam_pool *pool)
{
    char *name = xasprintf("provider subnet %s", ps->prefix);
    char *error = ipam_pool_build(pool, name, ps->prefix, ps->gateway,
                                  NULL, 0, ps->reserved, ps->n_reserved);
    free(name);
    return error;
}

/* Picks the address for 'req' from 'pool': the static one if it is free,
 * else the next free one. */
static enum ipam_error
pick(const struct ipam_pool *pool, const struct ipam_addr_set *used,
     const char *address, struct in6_addr *a, char **errorp)
{
    if (address) {
        *errorp = policy_addr_parse(address, a);
        if (*errorp) {
            return IPAM_BAD_INPUT;
        }
        *errorp = ipam_pool_check(pool, used, a);
        return (!*errorp ? IPAM_OK
                : strstr(*errorp, "already in use") ? IPAM_CONFLICT
                : IPAM_BAD_INPUT);
    }
    *errorp = ipam_pool_next_free(pool, used, a);
    return *errorp ? IPAM_CONFLICT : IPAM_OK;
}

/* The state a new lease for 'req' takes, and its end if it has one. */
static const char *
lease_state(const struct ipam_request *req)
{
    return req->owner ? "reserved" : "active";
}

static size_t
lease_expires(const struct ipam_request *req, int64_t *expires)
{
    *expires = req->expires;
    return req->owner && req->expires ? 1 : 0;
}

static void
set_reservation(const struct ipam_request *req,
                void (*set_state)(const void *, const char *),
                void (*set_owner)(const void *, const char *),
                void (*set_expires)(const void *, const int64_t *, size_t),
                const void *row)
{
    int64_t expires;
    size_t n = lease_expires(req, &expires);
    set_state(row, lease_state(req));
    set_owner(row, req->owner);
    set_expires(row, &expires, n);
}

#define SET_RESERVATION(REQ, TABLE, ROW)                                   \
    set_reservation(REQ,                                                   \
        (void (*)(const void *, const char *)) vmroamrec_##TABLE##_set_state, \
        (void (*)(const void *, const char *)) vmroamrec_##TABLE##_set_owner, \
        (void (*)(const void *, const int64_t *, size_t))                  \
            vmroamrec_##TABLE##_set_expires,                               \
        ROW)

/* Adds a PA lease for 'req' to 'txn'.  On success stores the address in
 * '*address' (malloc'd); otherwise the reason in '*errorp'. */
enum ipam_error
ipam_allocate_pa(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                 const struct ipam_request *req, long long int now,
                 char **address, char **errorp)
{
    struct ipam_addr_set used;
    const struct vmroamrec_provider_subnet *ps, *chosen = NULL;
    *address = NULL;
    struct in6_addr a;
    enum ipam_error result = IPAM_CONFLICT;
    size_t n_subnets = 0;

    ipam_addr_set_init(&used);
    pa_used(idl, now, &used);
    *errorp = NULL;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        if (chosen || (req->footprint && strcmp(ps->footprint,
                                                req->footprint))) {
            continue;
        }
        struct ipam_pool pool;
        char *error = pa_pool(ps, &pool);
        if (!error) {
            struct policy_prefix *p = &pool.prefix;
            struct in6_addr want;
            char *bad = req->address ? policy_addr_parse(req->address,
                                                         &want) : NULL;
            if (bad || (req->address && !policy_prefix_contains(p, &want))) {
                free(bad);
                ipam_pool_destroy(&pool);
                continue;
            }
            n_subnets++;
            result = pick(&pool, &used, req->address, &a, &error);
            ipam_pool_destroy(&pool);
        }
        if (error) {
            free(*errorp);
            *errorp = error;
        } else {
            chosen = ps;
        }
    }
    ipam_addr_set_destroy(&used);

    if (!chosen) {
        if (!n_subnets) {
            free(*errorp);
            *errorp = (req->address
                       ? xasprintf("%s is in no provider subnet%s%s",
                                   req->address,
                                   req->footprint ? " of footprint " : "",
                                   req->footprint ? req->footprint : "")
                       : xasprintf("no provider subnet%s%s",
                                   req->footprint ? " in footprint " : "",
                                   req->footprint ? req->footprint : ""));
            return IPAM_BAD_INPUT;
        }
        return result;
    }
    free(*errorp);
    *errorp = NULL;

    *address = policy_addr_to_string(&a);
    const struct vmroamrec_pa_lease *l, *lease = NULL;
    VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
        if (!strcmp(l->address, *address)) {
            vmroamrec_pa_lease_verify_state(l);
            vmroamrec_pa_lease_verify_expires(l);
            lease = l;
        }
    }
    if (!lease) {
        lease = vmroamrec_pa_lease_insert(txn);
        vmroamrec_pa_lease_set_address(lease, *address);
    }
    vmroamrec_pa_lease_set_provider_subnet(lease, chosen->prefix);
    vmroamrec_pa_lease_set_chassis(lease, req->chassis);
    SET_RESERVATION(req, pa_lease, lease);
    return IPAM_OK;
}

/* CA leases, read and written by key. */

/* What the database holds at one address of a virtual subnet. */
struct slot {
    struct in6_addr a;
    struct uuid lease_key, record_key;
    struct json *lease;         /* Its CA_Lease row's state and expires, or
                                 * NULL if it has none. */
    bool taken;                 /* By an active or reserved lease, or by a
                                 * lookup record. */
};

/* True if 'lease', a CA_Lease row read with its state and expires, holds
 * its address. */
static bool
lease_holds(const struct json *lease, long long int now)
{
    const struct json *state = shash_find_data(json_object(lease), "state");
    const struct json *e = shash_find_data(json_object(lease), "expires");
    int64_t expires = e && e->type == JSON_INTEGER ? json_integer(e) : 0;
    return (state && state->type == JSON_STRING
            && holds(json_string(state), &expires,
                     e && e->type == JSON_INTEGER, now));
}

/* Reads from the database what 'slots' hold, in one transaction. */
static bool
read_slots(struct policy_db *db, int64_t vsid, long long int now,
           struct slot *slots, size_t n, char **errorp)
{
    struct json *ops = policy_ops_create();
    for (size_t i = 0; i < n; i++) {
        struct slot *sl = &slots[i];
        policy_key_ca_lease(vsid, &sl->a, &sl->lease_key);
        policy_key_record(vsid, &sl->a, &sl->record_key);
        json_array_add(ops, policy_op_select(
                           "CA_Lease", policy_op_where_uuid(&sl->lease_key),
                           policy_op_columns("state", "expires", NULL)));
        json_array_add(ops, policy_op_select(
                           "Lookup_Record",
                           policy_op_where_uuid(&sl->record_key),
                           policy_op_columns("vsid", NULL)));
    }
    struct json *results = policy_db_execute(db, ops, errorp);
    if (!results) {
        return false;
    }
    for (size_t i = 0; i < n && !*errorp; i++) {
        const struct json_array *lease = policy_op_rows(results, 2 * i);
        const struct json_array *record = policy_op_rows(results, 2 * i + 1);
        if (!lease || !record) {
            *errorp = policy_op_failure(results, "reading leases");
            break;
        }
        struct slot *sl = &slots[i];
        json_destroy(sl->lease);
        sl->lease = lease->n ? json_clone(lease->elems[0]) : NULL;
        sl->taken = record->n > 0 || (sl->lease && lease_holds(sl->lease,
                                                               now));
    }
    json_destroy(results);
    return !*errorp;
}

static void
slots_destroy(struct slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_destroy(slots[i].lease);
    }
}

/* Finds a free address of 'seq' by probing (ipam/probe.h): stores it in
 * '*slot' and returns true, or returns false with '*errorp' null if the
 * probe found none. */
static bool
probe_pool(struct policy_db *db, int64_t vsid, long long int now,
           const struct ipam_seq *seq, struct slot *slot, char **errorp)
{
    struct ipam_probe probe;
    const uint64_t *candidates;
    struct slot slots[IPAM_PROBE_MAX];
    bool taken[IPAM_PROBE_MAX];
    size_t n;

    *errorp = NULL;
    memset(slots, 0, sizeof slots);
    ipam_probe_init(&probe, seq->size);
    while (!*errorp && (n = ipam_probe_next(&probe, &candidates)) > 0) {
        for (size_t i = 0; i < n; i++) {
            slots[i].a = ipam_seq_nth(seq, candidates[i]);
        }
        if (read_slots(db, vsid, now, slots, n, errorp)) {
            for (size_t i = 0; i < n; i++) {
                taken[i] = slots[i].taken;
                if (!taken[i]) {
                    json_destroy(slot->lease);
                    *slot = slots[i];
                    slot->lease = json_nullable_clone(slots[i].lease);
                    break;
                }
            }
            ipam_probe_answer(&probe, taken);
        }
    }
    slots_destroy(slots, ARRAY_SIZE(slots));
    uint64_t k;
    return !*errorp && ipam_probe_found(&probe, &k);
}

/* Adds to 'used' the addresses taken in VSID 'vsid', read whole: what a
 * probe cannot tell. */
static bool
read_pool(struct policy_db *db, int64_t vsid, long long int now,
          struct ipam_addr_set *used, char **errorp)
{
    struct json *vsid_clause = policy_op_clause("vsid", "==",
                                                json_integer_create(vsid));
    struct json *ops = policy_ops_create();
    json_array_add(ops, policy_op_select(
                       "CA_Lease",
                       json_array_create_1(json_clone(vsid_clause)),
                       policy_op_columns("address", "state", "expires",
                                         NULL)));
    json_array_add(ops, policy_op_select(
                       "Lookup_Record", json_array_create_1(vsid_clause),
                       policy_op_columns("ca", NULL)));

    struct json *results = policy_db_execute(db, ops, errorp);
    if (!results) {
        return false;
    }
    const struct json_array *leases = policy_op_rows(results, 0);
    const struct json_array *records = policy_op_rows(results, 1);
    if (!leases || !records) {
        *errorp = policy_op_failure(results, "reading leases");
    }
    for (size_t i = 0; leases && records && i < leases->n; i++) {
        const struct json *address = shash_find_data(
            json_object(leases->elems[i]), "address");
        if (address && address->type == JSON_STRING
            && lease_holds(leases->elems[i], now)) {
            add_text(used, json_string(address));
        }
    }
    for (size_t i = 0; leases && records && i < records->n; i++) {
        const struct json *ca = shash_find_data(
            json_object(records->elems[i]), "ca");
        if (ca && ca->type == JSON_STRING) {
            add_text(used, json_string(ca));
        }
    }
    json_destroy(results);
    return !*errorp;
}

/* The columns a lease for 'req' sets besides its key. */
static struct json *
lease_row(const struct ipam_request *req, const char *mac)
{
    int64_t expires;
    struct json *row = json_object_create();
    json_object_put(row, "vm", policy_op_optional_string(req->vm));
    json_object_put(row, "mac", policy_op_optional_string(mac));
    json_object_put_string(row, "state", lease_state(req));
    json_object_put(row, "owner", policy_op_optional_string(req->owner));
    json_object_put(row, "expires", (lease_expires(req, &expires)
                                     ? json_integer_create(expires)
                                     : policy_op_empty_set()));
    return row;
}

/* Adds to 'ops' a check that the row of 'table' keyed 'key' holds 'row'
 * (of 'columns'), or does not exist if 'row' is null. */
static void
add_wait(struct json *ops, const char *table, const struct uuid *key,
         struct json *columns, const struct json *row)
{
    json_array_add(ops, policy_op_wait(
                       table, policy_op_where_uuid(key), columns,
                       (row ? json_array_create_1(json_clone(row))
                        : json_array_create_empty())));
}

enum write_result { WRITTEN, RACED, FAILED };

/* Writes a lease for 'req' at 'slot', unless the address was taken since
 * 'slot' was read (RACED). */
static enum write_result
write_lease(struct policy_db *db, const struct ipam_request *req,
            const char *mac, const struct slot *slot, char **errorp)
{
    struct json *ops = policy_ops_create();
    add_wait(ops, "Lookup_Record", &slot->record_key,
             policy_op_columns("vsid", NULL), NULL);
    struct json *row = lease_row(req, mac);
    if (slot->lease) {
        /* A released or expired lease: taken over unless someone else
         * does first. */
        add_wait(ops, "CA_Lease", &slot->lease_key,
                 policy_op_columns("state", "expires", NULL), slot->lease);
        struct json *o = policy_op("update", "CA_Lease",
                                   policy_op_where_uuid(&slot->lease_key));
        json_object_put(o, "row", row);
        json_array_add(ops, o);
    } else {
        json_object_put(row, "vsid", json_integer_create(req->vsid));
        json_object_put(row, "address", json_string_create_nocopy(
                            policy_addr_to_string(&slot->a)));
        json_array_add(ops, policy_op_insert("CA_Lease", &slot->lease_key,
                                             row));
    }

    struct json *results = policy_db_execute(db, ops, errorp);
    if (!results) {
        return FAILED;
    }
    char *error = policy_op_error(results);
    json_destroy(results);
    if (!error) {
        return WRITTEN;
    }
    /* A wait that failed, or another client's insert of the same key. */
    if (policy_op_wait_failed(error)
        || !strncmp(error, "duplicate uuid", 14)) {
        free(error);
        return RACED;
    }
    *errorp = xasprintf("writing the lease failed: %s", error);
    free(error);
    return FAILED;
}

/* Finds the address 'req' asks for, or the next free one, in 'pool'
 * (numbered by 'seq'), with what the database holds there, in '*slot'. */
static enum ipam_error
find_slot(struct policy_db *db, const struct ipam_request *req,
          long long int now, const struct ipam_pool *pool,
          const struct ipam_seq *seq, struct slot *slot, char **errorp)
{
    struct ipam_addr_set used;
    ipam_addr_set_init(&used);
    enum ipam_error result = IPAM_CONFLICT;
    if (req->address) {
        /* A static address: only its own slot counts. */
        *errorp = policy_addr_parse(req->address, &slot->a);
        if (*errorp) {
            result = IPAM_BAD_INPUT;
        } else if (read_slots(db, req->vsid, now, slot, 1, errorp)) {
            if (slot->taken) {
                ipam_addr_set_add(&used, &slot->a);
            }
            result = pick(pool, &used, req->address, &slot->a, errorp);
        }
    } else if (probe_pool(db, req->vsid, now, seq, slot, errorp)) {
        result = IPAM_OK;
    } else if (!*errorp && read_pool(db, req->vsid, now, &used, errorp)) {
        result = pick(pool, &used, NULL, &slot->a, errorp);
        if (result == IPAM_OK && !read_slots(db, req->vsid, now, slot, 1,
                                             errorp)) {
            result = IPAM_CONFLICT;
        }
    }
    ipam_addr_set_destroy(&used);
    return result;
}

/* Leases an address of VSID 'req->vsid' for 'req', in its own transaction
 * on 'db' (whose IDL replicates the virtual subnets and CA pools).  The
 * leases and lookup records are read by key, never whole unless the pool
 * looks full.  On success stores the address in '*address' (malloc'd);
 * otherwise the reason in '*errorp'. */
enum ipam_error
ipam_allocate_ca(struct policy_db *db, const struct ipam_request *req,
                 long long int now, char **address, char **errorp)
{
    *address = *errorp = NULL;
    const struct vmroamrec_virtual_subnet *vs = find_subnet(db->idl,
                                                            req->vsid);
    if (!vs) {
        *errorp = xasprintf("VSID %"PRId64" is not declared in the policy",
                            req->vsid);
        return IPAM_BAD_INPUT;
    }
    /* As a policy file's MAC: unicast, and stored in canonical form. */
    char *mac = nullable_xstrdup(req->mac);
    struct eth_addr mac_e;
    *errorp = mac ? policy_parse_mac(&mac, &mac_e) : NULL;
    struct ipam_pool pool;
    if (*errorp || (*errorp = ca_pool(db->idl, vs, &pool))) {
        free(mac);
        return IPAM_BAD_INPUT;
    }

    struct ipam_seq seq;
    ipam_seq_init(&seq, &pool);
    long long int deadline = time_msec() + db->timeout_ms;
    enum ipam_error result;
    for (;;) {
        struct slot slot = { .lease = NULL };
        result = find_slot(db, req, now, &pool, &seq, &slot, errorp);
        enum write_result w = (result == IPAM_OK
                               ? write_lease(db, req, mac, &slot, errorp)
                               : FAILED);
        if (w == WRITTEN) {
            *address = policy_addr_to_string(&slot.a);
        } else if (w == FAILED && result == IPAM_OK) {
            result = IPAM_CONFLICT;
        }
        json_destroy(slot.lease);
        if (w != RACED) {
            break;
        }
        if (time_msec() >= deadline) {
            /* Other clients kept taking the address found first. */
            *errorp = xasprintf("%s: no address could be leased within "
                                "%d ms: other clients took each one found",
                                pool.name, db->timeout_ms);
            result = IPAM_CONFLICT;
            break;
        }
    }
    ipam_seq_destroy(&seq);
    ipam_pool_destroy(&pool);
    free(mac);
    return result;
}

/* Marks the CA lease of 'address' in 'vsid' released, by its key, in a
 * transaction of its own on 'db'. */
enum ipam_error
ipam_release_ca(struct policy_db *db, int64_t vsid, const char *address,
                char **errorp)
{
    struct in6_addr a;
    *errorp = policy_addr_parse(address, &a);
    if (*errorp) {
        return IPAM_BAD_INPUT;
    }
    struct uuid key;
    policy_key_ca_lease(vsid, &a, &key);
    struct json *where = policy_op_where_uuid(&key);
    json_array_add(where, policy_op_clause("state", "!=",
                                           json_string_create("released")));
    struct json *o = policy_op("update", "CA_Lease", where);
    struct json *row = json_object_create();
    json_object_put_string(row, "state", "released");
    json_object_put(o, "row", row);
    struct json *ops = policy_ops_create();
    json_array_add(ops, o);

    struct json *results = policy_db_execute(db, ops, errorp);
    if (!results) {
        return IPAM_CONFLICT;
    }
    const struct json *r = json_array(results)->elems[0];
    const struct json *count = (r->type == JSON_OBJECT
                                ? shash_find_data(json_object(r), "count")
                                : NULL);
    enum ipam_error result = IPAM_OK;
    if (!count || count->type != JSON_INTEGER) {
        *errorp = policy_op_failure(results, "releasing the lease");
        result = IPAM_CONFLICT;
    } else if (!json_integer(count)) {
        char *canonical = policy_addr_to_string(&a);
        *errorp = xasprintf("%s is not leased in VSID %"PRId64, canonical,
                            vsid);
        free(canonical);
        result = IPAM_BAD_INPUT;
    }
    json_destroy(results);
    return result;
}

/* Marks the PA lease of 'address' released. */
enum ipam_error
ipam_release_pa(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
                const char *address, char **errorp)
{
    struct in6_addr a;
    *errorp = policy_addr_parse(address, &a);
    if (*errorp) {
        return IPAM_BAD_INPUT;
    }
    char *canonical = policy_addr_to_string(&a);
    bool found = false;
    const struct vmroamrec_pa_lease *l;
    VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
        if (!strcmp(l->address, canonical)
            && strcmp(l->state, "released")) {
            vmroamrec_pa_lease_verify_state(l);
            vmroamrec_pa_lease_set_state(l, "released");
            found = true;
        }
    }
    if (!found) {
        *errorp = xasprintf("%s is not leased as a provider address "
                            "(use --vsid N for a customer address)",
                            canonical);
    }
    free(canonical);
    return found ? IPAM_OK : IPAM_BAD_INPUT;
}

/* Appends to 'problems' every inconsistency between the policy and IPAM:
 * a lookup record whose CA or PA has no lease, a CA lease whose VM has no
 * lookup record.  Returns how many. */
size_t
ipam_check(struct ovsdb_idl *idl, long long int now, struct svec *problems)
{
    const struct vmroamrec_lookup_record *r;
    const struct vmroamrec_ca_lease *cl;
    const struct vmroamrec_pa_lease *pl;
    struct sset cas = SSET_INITIALIZER(&cas);       /* "VSID CA" leased. */
    struct sset pas = SSET_INITIALIZER(&pas);       /* PAs leased. */
    struct sset placed = SSET_INITIALIZER(&placed); /* "VSID CA VM". */
    size_t n = problems->n;

    VMROAMREC_CA_LEASE_FOR_EACH (cl, idl) {
        if (holds(cl->state, cl->expires, cl->n_expires, now)) {
            sset_add_and_free(&cas, xasprintf("%"PRId64" %s", cl->vsid,
                                            cl->address));
        }
    }
    VMROAMREC_PA_LEASE_FOR_EACH (pl, idl) {
        if (holds(pl->state, pl->expires, pl->n_expires, now)) {
            sset_add(&pas, pl->address);
        }
    }
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, idl) {
        char *key = xasprintf("%"PRId64" %s", r->vsid, r->ca);
        if (!sset_contains(&cas, key)) {
            svec_add_nocopy(problems, xasprintf(
                "lookup record VSID %"PRId64" %s (vm %s): the CA has no "
                "lease", r->vsid, r->ca, r->vm ? r->vm : "-"));
        }
        if (!sset_contains(&pas, r->pa)) {
            svec_add_nocopy(problems, xasprintf(
                "lookup record VSID %"PRId64" %s (vm %s): its PA %s on %s "
                "has no lease", r->vsid, r->ca, r->vm ? r->vm : "-", r->pa,
                r->chassis));
        }
        if (r->vm) {
            sset_add_and_free(&placed, xasprintf("%s %s", key, r->vm));
        }
        free(key);
    }
    VMROAMREC_CA_LEASE_FOR_EACH (cl, idl) {
        if (cl->vm && !strcmp(cl->state, "active")) {
            char *key = xasprintf("%"PRId64" %s %s", cl->vsid, cl->address,
                                  cl->vm);
            if (!sset_contains(&placed, key)) {
                svec_add_nocopy(problems, xasprintf(
                    "CA lease VSID %"PRId64" %s of vm %s: no lookup record "
                    "places that VM at that address", cl->vsid, cl->address,
                    cl->vm));
            }
            free(key);
        }
    }
    sset_destroy(&cas);
    sset_destroy(&pas);
    sset_destroy(&placed);
    return problems->n - n;
}

/* Finds the active PA lease of 'chassis' and its provider subnet. */
bool
ipam_pa_of(struct ovsdb_idl *idl, const char *chassis, struct ipam_pa *pa)
{
    const struct vmroamrec_pa_lease *l;
    VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
        if (!strcmp(l->chassis, chassis) && !strcmp(l->state, "active")) {
            const struct vmroamrec_provider_subnet *ps;
            VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
                if (!strcmp(ps->prefix, l->provider_subnet)) {
                    *pa = (struct ipam_pa) {
                        .address = l->address,
                        .subnet = ps->prefix,
                        .gateway = ps->gateway,
                    };
                    return true;
                }
            }
        }
    }
    return false;
}

/* Returns "ADDRESS/LENGTH" of 'pa', with its subnet's prefix length. */
char *
ipam_pa_cidr(const struct ipam_pa *pa)
{
    const char *slash = strchr(pa->subnet, '/');
    return xasprintf("%s%s", pa->address, slash ? slash : "");
}

/* Releases every PA lease of host 'chassis' (a host leaving its footprint
 * gives its addresses back). */
enum ipam_error
ipam_release_host(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn OVS_UNUSED,
                  const char *chassis, char **errorp)
{
    const struct vmroamrec_pa_lease *l;
    bool found = false;
    VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
        if (!strcmp(l->chassis, chassis) && strcmp(l->state, "released")) {
            vmroamrec_pa_lease_verify_state(l);
            vmroamrec_pa_lease_set_state(l, "released");
            found = true;
        }
    }
    if (!found) {
        *errorp = xasprintf("host %s holds no PA lease", chassis);
    }
    return found ? IPAM_OK : IPAM_BAD_INPUT;
}
