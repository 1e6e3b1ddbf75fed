#include <config.h>

#include "ipam/leases.h"

#include <string.h>

#include "ipam/pool.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "policy/parse.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

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
ca_used(struct ovsdb_idl *idl, int64_t vsid, long long int now,
        struct ipam_addr_set *used)
{
    const struct vmroamrec_ca_lease *l;
    VMROAMREC_CA_LEASE_FOR_EACH (l, idl) {
        if (l->vsid == vsid && holds(l->state, l->expires, l->n_expires,
                                     now)) {
            add_text(used, l->address);
        }
    }
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, idl) {
        if (r->vsid == vsid) {
            add_text(used, r->ca);
        }
    }
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

static void
set_reservation(const struct ipam_request *req,
                void (*set_state)(const void *, const char *),
                void (*set_owner)(const void *, const char *),
                void (*set_expires)(const void *, const int64_t *, size_t),
                const void *row)
{
    set_state(row, req->owner ? "reserved" : "active");
    set_owner(row, req->owner);
    int64_t expires = req->expires;
    set_expires(row, &expires, req->owner && req->expires ? 1 : 0);
}

#define SET_RESERVATION(REQ, TABLE, ROW)                                   \
    set_reservation(REQ,                                                   \
        (void (*)(const void *, const char *)) vmroamrec_##TABLE##_set_state, \
        (void (*)(const void *, const char *)) vmroamrec_##TABLE##_set_owner, \
        (void (*)(const void *, const int64_t *, size_t))                  \
            vmroamrec_##TABLE##_set_expires,                               \
        ROW)

static enum ipam_error
allocate_ca(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
            const struct ipam_request *req, long long int now,
            char **address, char **errorp)
{
    const struct vmroamrec_virtual_subnet *vs = find_subnet(idl, req->vsid);
    if (!vs) {
        *errorp = xasprintf("VSID %"PRId64" is not declared in the policy",
                            req->vsid);
        return IPAM_BAD_INPUT;
    }
    /* As a policy file's MAC: unicast, and stored in canonical form. */
    char *mac = nullable_xstrdup(req->mac);
    struct eth_addr mac_e;
    char *bad_mac = mac ? policy_parse_mac(&mac, &mac_e) : NULL;
    if (bad_mac) {
        *errorp = bad_mac;
        free(mac);
        return IPAM_BAD_INPUT;
    }

    struct ipam_pool pool;
    struct ipam_addr_set used;
    struct in6_addr a;
    ipam_addr_set_init(&used);
    *errorp = ca_pool(idl, vs, &pool);
    enum ipam_error result = IPAM_BAD_INPUT;
    if (!*errorp) {
        ca_used(idl, req->vsid, now, &used);
        result = pick(&pool, &used, req->address, &a, errorp);
        ipam_pool_destroy(&pool);
    }
    ipam_addr_set_destroy(&used);
    if (result != IPAM_OK) {
        free(mac);
        return result;
    }

    *address = policy_addr_to_string(&a);
    const struct vmroamrec_ca_lease *l, *lease = NULL;
    VMROAMREC_CA_LEASE_FOR_EACH (l, idl) {
        if (l->vsid == req->vsid && !strcmp(l->address, *address)) {
            /* A released or expired lease: take it over, unless someone
             * else does first. */
            vmroamrec_ca_lease_verify_state(l);
            vmroamrec_ca_lease_verify_expires(l);
            lease = l;
        }
    }
    if (!lease) {
        lease = vmroamrec_ca_lease_insert(txn);
        vmroamrec_ca_lease_set_vsid(lease, req->vsid);
        vmroamrec_ca_lease_set_address(lease, *address);
    }
    vmroamrec_ca_lease_set_vm(lease, req->vm);
    vmroamrec_ca_lease_set_mac(lease, mac);
    free(mac);
    SET_RESERVATION(req, ca_lease, lease);
    return IPAM_OK;
}

static enum ipam_error
allocate_pa(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
            const struct ipam_request *req, long long int now,
            char **address, char **errorp)
{
    struct ipam_addr_set used;
    const struct vmroamrec_provider_subnet *ps, *chosen = NULL;
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

/* Adds a lease for 'req' to 'txn'.  On success stores the address in
 * '*address' (malloc'd); otherwise the reason in '*errorp'. */
enum ipam_error
ipam_allocate(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
              const struct ipam_request *req, long long int now,
              char **address, char **errorp)
{
    *address = NULL;
    return (req->vsid
            ? allocate_ca(idl, txn, req, now, address, errorp)
            : allocate_pa(idl, txn, req, now, address, errorp));
}

/* Marks the lease of 'address' (in 'vsid', or a PA if 'vsid' is 0)
 * released. */
enum ipam_error
ipam_release(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
             int64_t vsid, const char *address, char **errorp)
{
    struct in6_addr a;
    *errorp = policy_addr_parse(address, &a);
    if (*errorp) {
        return IPAM_BAD_INPUT;
    }
    char *canonical = policy_addr_to_string(&a);
    bool found = false;

    if (vsid) {
        const struct vmroamrec_ca_lease *l;
        VMROAMREC_CA_LEASE_FOR_EACH (l, idl) {
            if (l->vsid == vsid && !strcmp(l->address, canonical)
                && strcmp(l->state, "released")) {
                vmroamrec_ca_lease_verify_state(l);
                vmroamrec_ca_lease_set_state(l, "released");
                found = true;
            }
        }
    } else {
        const struct vmroamrec_pa_lease *l;
        VMROAMREC_PA_LEASE_FOR_EACH (l, idl) {
            if (!strcmp(l->address, canonical)
                && strcmp(l->state, "released")) {
                vmroamrec_pa_lease_verify_state(l);
                vmroamrec_pa_lease_set_state(l, "released");
                found = true;
            }
        }
    }
    if (!found) {
        if (vsid) {
            *errorp = xasprintf("%s is not leased in VSID %"PRId64,
                                canonical, vsid);
        } else {
            *errorp = xasprintf("%s is not leased as a provider address "
                                "(use --vsid N for a customer address)",
                                canonical);
        }
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
