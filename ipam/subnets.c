#include <config.h>

#include "ipam/subnets.h"

#include <string.h>

#include "ipam/pool.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/parse.h"
#include "policy/prefix.h"
#include "policy/vmroam-idl.h"
#include "sset.h"
#include "util.h"

static bool
footprint_exists(struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_footprint *f;
    VMROAMREC_FOOTPRINT_FOR_EACH (f, idl) {
        if (!strcmp(f->name, name)) {
            return true;
        }
    }
    return false;
}

enum ipam_error
ipam_footprint_add(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                   const char *name, const char *description, char **errorp)
{
    if (footprint_exists(idl, name)) {
        *errorp = xasprintf("footprint %s exists already", name);
        return IPAM_CONFLICT;
    }
    const struct vmroamrec_footprint *f = vmroamrec_footprint_insert(txn);
    vmroamrec_footprint_set_name(f, name);
    vmroamrec_footprint_set_description(f, description);
    return IPAM_OK;
}

/* Adds every footprint name to 'names': Footprint rows and the names
 * provider subnets use (policy files may name footprints without adding
 * them first). */
void
ipam_footprint_names(struct ovsdb_idl *idl, struct sset *names)
{
    const struct vmroamrec_footprint *f;
    VMROAMREC_FOOTPRINT_FOR_EACH (f, idl) {
        sset_add(names, f->name);
    }
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        sset_add(names, ps->footprint);
    }
}

/* The PA leases (not released) from provider subnet 'prefix'. */
size_t
ipam_subnet_pa_leases(struct ovsdb_idl *idl, const char *prefix)
{
    const struct vmroamrec_pa_lease *pl;
    size_t n = 0;
    VMROAMREC_PA_LEASE_FOR_EACH (pl, idl) {
        n += !strcmp(pl->provider_subnet, prefix)
             && strcmp(pl->state, "released");
    }
    return n;
}

/* Why 'prefix' overlaps a provider subnet already there, or NULL. */
static char *
overlap(struct ovsdb_idl *idl, const char *text,
        const struct policy_prefix *prefix)
{
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        struct policy_prefix other;
        char *error = policy_prefix_parse(ps->prefix, &other);
        bool overlaps = !error && policy_prefix_overlaps(prefix, &other);
        free(error);
        if (overlaps) {
            return xasprintf("%s overlaps provider subnet %s (footprint %s)",
                             text, ps->prefix, ps->footprint);
        }
    }
    return NULL;
}

enum ipam_error
ipam_subnet_add(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                const char *prefix_s, const char *footprint,
                const char *gateway, char *const *reserved,
                size_t n_reserved, char **errorp)
{
    struct policy_prefix prefix;
    char *text = xstrdup(prefix_s);
    *errorp = policy_parse_prefix(&text, &prefix);

    /* The gateway and reservations must fit the prefix: a pool built from
     * them says so in its own words. */
    struct ipam_pool pool;
    if (!*errorp) {
        *errorp = ipam_pool_build(&pool, text, text, gateway, NULL, 0,
                                  reserved,
                                  n_reserved);
        if (!*errorp) {
            ipam_pool_destroy(&pool);
            *errorp = overlap(idl, text, &prefix);
        }
    }
    if (*errorp) {
        free(text);
        return IPAM_BAD_INPUT;
    }

    const struct vmroamrec_provider_subnet *ps
        = vmroamrec_provider_subnet_insert(txn);
    vmroamrec_provider_subnet_set_prefix(ps, text);
    vmroamrec_provider_subnet_set_footprint(ps, footprint);
    vmroamrec_provider_subnet_set_gateway(ps, gateway);
    vmroamrec_provider_subnet_set_reserved(ps, (const char **) reserved,
                                           n_reserved);
    policy_db_bump_generation(idl, txn);
    free(text);
    return IPAM_OK;
}

enum ipam_error
ipam_subnet_del(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                const char *prefix_s, char **errorp)
{
    struct policy_prefix prefix;
    char *text = xstrdup(prefix_s);
    *errorp = policy_parse_prefix(&text, &prefix);
    if (*errorp) {
        free(text);
        return IPAM_BAD_INPUT;
    }

    const struct vmroamrec_provider_subnet *ps, *found = NULL;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        if (!strcmp(ps->prefix, text)) {
            found = ps;
        }
    }
    enum ipam_error result = IPAM_OK;
    size_t n_leases = found ? ipam_subnet_pa_leases(idl, text) : 0;
    if (!found) {
        *errorp = xasprintf("no provider subnet %s", text);
        result = IPAM_BAD_INPUT;
    } else if (n_leases) {
        *errorp = xasprintf("provider subnet %s still has %"PRIuSIZE" PA "
                            "lease%s; release them first", text, n_leases,
                            n_leases == 1 ? "" : "s");
        result = IPAM_CONFLICT;
    } else {
        vmroamrec_provider_subnet_delete(found);
        policy_db_bump_generation(idl, txn);
    }
    free(text);
    return result;
}

/* Why footprint 'name' is still in use, or NULL: a VM on one of its hosts,
 * or a PA lease in one of its subnets. */
static char *
footprint_user(struct ovsdb_idl *idl, const char *name)
{
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        if (strcmp(ps->footprint, name)) {
            continue;
        }
        const struct vmroamrec_chassis *ch;
        VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
            if (!ch->provider_subnet
                || strcmp(ch->provider_subnet, ps->prefix)) {
                continue;
            }
            const struct vmroamrec_vm *vm;
            VMROAMREC_VM_FOR_EACH (vm, idl) {
                if (vm->chassis && !strcmp(vm->chassis, ch->name)
                    && vm->state && !strcmp(vm->state, "running")) {
                    return xasprintf("host %s still runs VM %s: move its VMs "
                                     "first (vmroam footprint evacuate %s "
                                     "--to NEW)", ch->name, vm->name, name);
                }
            }
        }
        size_t n = ipam_subnet_pa_leases(idl, ps->prefix);
        if (n) {
            return xasprintf("provider subnet %s still has %"PRIuSIZE" PA "
                             "lease%s (vmroam ipam leases; vmroam ipam "
                             "release ADDRESS)", ps->prefix, n,
                             n == 1 ? "" : "s");
        }
    }
    return NULL;
}

/* Deletes footprint 'name' and its provider subnets in 'txn', unless
 * anything still uses them. */
enum ipam_error
ipam_footprint_del(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                   const char *name, char **errorp)
{
    struct sset names = SSET_INITIALIZER(&names);
    ipam_footprint_names(idl, &names);
    bool exists = sset_contains(&names, name);
    sset_destroy(&names);
    if (!exists) {
        *errorp = xasprintf("no footprint named %s", name);
        return IPAM_BAD_INPUT;
    }
    char *user = footprint_user(idl, name);
    if (user) {
        *errorp = xasprintf("footprint %s is in use: %s", name, user);
        free(user);
        return IPAM_CONFLICT;
    }
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, idl) {
        if (!strcmp(ps->footprint, name)) {
            vmroamrec_provider_subnet_delete(ps);
            policy_db_bump_generation(idl, txn);
        }
    }
    const struct vmroamrec_footprint *f;
    VMROAMREC_FOOTPRINT_FOR_EACH (f, idl) {
        if (!strcmp(f->name, name)) {
            vmroamrec_footprint_delete(f);
        }
    }
    return IPAM_OK;
}

enum ipam_error
ipam_pool_set(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, int64_t vsid,
              char *const *ranges, size_t n_ranges,
              char *const *reserved, size_t n_reserved, char **errorp)
{
    const struct vmroamrec_virtual_subnet *vs, *found = NULL;
    VMROAMREC_VIRTUAL_SUBNET_FOR_EACH (vs, idl) {
        if (vs->vsid == vsid) {
            found = vs;
        }
    }
    if (!found) {
        *errorp = xasprintf("VSID %"PRId64" is not declared in the policy",
                            vsid);
        return IPAM_BAD_INPUT;
    }

    /* Ranges and reservations must fit the subnet: a pool built from them
     * says so in its own words. */
    struct ipam_pool pool;
    char *name = xasprintf("VSID %"PRId64, vsid);
    *errorp = ipam_pool_build(&pool, name, found->prefix, found->gateway,
                              ranges, n_ranges,
                              reserved, n_reserved);
    free(name);
    if (*errorp) {
        return IPAM_BAD_INPUT;
    }
    ipam_pool_destroy(&pool);

    const struct vmroamrec_ca_pool *cp, *row = NULL;
    VMROAMREC_CA_POOL_FOR_EACH (cp, idl) {
        if (cp->vsid == vsid) {
            row = cp;
        }
    }
    if (!row) {
        row = vmroamrec_ca_pool_insert(txn);
        vmroamrec_ca_pool_set_vsid(row, vsid);
    }
    vmroamrec_ca_pool_set_ranges(row, (const char **) ranges, n_ranges);
    vmroamrec_ca_pool_set_reserved(row, (const char **) reserved, n_reserved);
    return IPAM_OK;
}
