#include <config.h>

#include "policy/validate.h"

#include <stdarg.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "policy/policy.h"
#include "svec.h"
#include "util.h"

struct validator {
    const struct policy *policy;
    const char *name;
    struct svec *errors;
};

static char *
item_path(enum policy_table t, const struct policy_origin *o)
{
    switch (t) {
    case POLICY_ROUTING_DOMAINS:
        return xasprintf("routing_domains[%"PRIuSIZE"]", o->index);
    case POLICY_VIRTUAL_SUBNETS:
        return xasprintf("routing_domains[%"PRIuSIZE"].virtual_subnets"
                         "[%"PRIuSIZE"]", o->parent, o->index);
    case POLICY_PROVIDER_SUBNETS:
        return xasprintf("provider_subnets[%"PRIuSIZE"]", o->index);
    case POLICY_LOOKUP_RECORDS:
        return xasprintf("lookup_records[%"PRIuSIZE"]", o->index);
    case POLICY_CUSTOMER_ROUTES:
        return xasprintf("customer_routes[%"PRIuSIZE"]", o->index);
    case POLICY_N_TABLES:
    default:
        OVS_NOT_REACHED();
    }
}

static void OVS_PRINTF_FORMAT(5, 6)
invalid(struct validator *v, enum policy_table t,
        const struct policy_origin *o, const char *field,
        const char *format, ...)
{
    struct ds msg = DS_EMPTY_INITIALIZER;
    char *path = item_path(t, o);
    va_list args;

    ds_put_format(&msg, "%s: %s.%s: ", v->name, path, field);
    va_start(args, format);
    ds_put_format_valist(&msg, format, args);
    va_end(args);
    svec_add_nocopy(v->errors, ds_steal_cstr(&msg));
    free(path);
}

/* A set of keys, each remembering the first item that had it. */
struct seen_node {
    struct hmap_node node;
    void *key;
    size_t len;
    const void *item;
};

/* Adds 'key' for 'item' to 'seen'.  Returns the item that had 'key' already,
 * or NULL if 'key' is new. */
static const void *
seen_add(struct hmap *seen, const void *key, size_t len, const void *item)
{
    uint32_t hash = hash_bytes(key, len, 0);
    struct seen_node *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash, seen) {
        if (s->len == len && !memcmp(s->key, key, len)) {
            return s->item;
        }
    }
    s = xmalloc(sizeof *s);
    s->key = xmemdup(key, len);
    s->len = len;
    s->item = item;
    hmap_insert(seen, &s->node, hash);
    return NULL;
}

static const void *
seen_find(const struct hmap *seen, const void *key, size_t len)
{
    struct seen_node *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash_bytes(key, len, 0), seen) {
        if (s->len == len && !memcmp(s->key, key, len)) {
            return s->item;
        }
    }
    return NULL;
}

static void
seen_destroy(struct hmap *seen)
{
    struct seen_node *s;
    HMAP_FOR_EACH_POP (s, node, seen) {
        free(s->key);
        free(s);
    }
    hmap_destroy(seen);
}

/* Key of an item that is unique per VSID: an address or a MAC. */
struct vsid_key {
    int64_t vsid;
    uint8_t bytes[16];
};

static struct vsid_key
vsid_key(int64_t vsid, const void *bytes, size_t len)
{
    struct vsid_key k;
    memset(&k, 0, sizeof k);
    k.vsid = vsid;
    memcpy(k.bytes, bytes, len);
    return k;
}

static void
check_routing_domains(struct validator *v, struct hmap *rds)
{
    const struct policy *p = v->policy;
    for (size_t i = 0; i < p->n_rds; i++) {
        const struct policy_routing_domain *rd = &p->rds[i];
        const struct policy_routing_domain *first
            = seen_add(rds, rd->name, strlen(rd->name), rd);
        if (first) {
            char *where = item_path(POLICY_ROUTING_DOMAINS, &first->origin);
            invalid(v, POLICY_ROUTING_DOMAINS, &rd->origin, "name",
                    "routing domain %s is declared twice (first at %s)",
                    rd->name, where);
            free(where);
        }
    }
}

static void
check_gateway(struct validator *v, enum policy_table t,
              const struct policy_origin *o, const char *gateway,
              const struct in6_addr *gateway_a,
              const struct policy_prefix *prefix, const char *prefix_s)
{
    if (gateway && !policy_prefix_contains(prefix, gateway_a)) {
        invalid(v, t, o, "gateway", "%s is outside the subnet's prefix %s",
                gateway, prefix_s);
    }
}

static void
check_virtual_subnets(struct validator *v, struct hmap *vsids)
{
    const struct policy *p = v->policy;
    for (size_t i = 0; i < p->n_vsubnets; i++) {
        const struct policy_virtual_subnet *vs = &p->vsubnets[i];
        const struct policy_origin *o = &vs->origin;

        const struct policy_virtual_subnet *first
            = seen_add(vsids, &vs->vsid, sizeof vs->vsid, vs);
        if (first) {
            char *where = item_path(POLICY_VIRTUAL_SUBNETS, &first->origin);
            invalid(v, POLICY_VIRTUAL_SUBNETS, o, "vsid",
                    "VSID %"PRId64" is already declared in routing domain "
                    "%s (%s)", vs->vsid, first->routing_domain, where);
            free(where);
        }
        check_gateway(v, POLICY_VIRTUAL_SUBNETS, o, vs->gateway,
                      &vs->gateway_a, &vs->prefix_p, vs->prefix);

        /* Overlaps only matter within one routing domain; the number of
         * subnets per domain is small, so pairwise is fine. */
        for (size_t j = 0; j < i; j++) {
            const struct policy_virtual_subnet *other = &p->vsubnets[j];
            if (!strcmp(other->routing_domain, vs->routing_domain)
                && policy_prefix_overlaps(&other->prefix_p, &vs->prefix_p)) {
                invalid(v, POLICY_VIRTUAL_SUBNETS, o, "prefix",
                        "%s overlaps virtual subnet %"PRId64" (%s) of the "
                        "same routing domain %s", vs->prefix, other->vsid,
                        other->prefix, vs->routing_domain);
            }
        }
    }
}

/* Orders addresses IPv6 first, then IPv4: an IPv6 prefix as short as ::/0
 * spans the IPv4-mapped range, so a search must not mix the families. */
static int
addr_cmp_by_family(const struct in6_addr *a, const struct in6_addr *b)
{
    int fa = policy_addr_is_ipv4(a), fb = policy_addr_is_ipv4(b);
    return fa != fb ? fa - fb : policy_addr_cmp(a, b);
}

static int
compare_psubnet_ptrs(const void *a, const void *b)
{
    const struct policy_provider_subnet *const *pa = a, *const *pb = b;
    return addr_cmp_by_family(&(*pa)->prefix_p.addr, &(*pb)->prefix_p.addr);
}

/* Returns the provider subnets sorted by prefix, after checking that none
 * overlaps another: then an address can be found by binary search. */
static const struct policy_provider_subnet **
check_provider_subnets(struct validator *v)
{
    const struct policy *p = v->policy;
    const struct policy_provider_subnet **sorted
        = xmalloc((p->n_psubnets + 1) * sizeof *sorted);

    for (size_t i = 0; i < p->n_psubnets; i++) {
        const struct policy_provider_subnet *ps = &p->psubnets[i];
        sorted[i] = ps;
        check_gateway(v, POLICY_PROVIDER_SUBNETS, &ps->origin, ps->gateway,
                      &ps->gateway_a, &ps->prefix_p, ps->prefix);
        for (size_t j = 0; j < i; j++) {
            const struct policy_provider_subnet *other = &p->psubnets[j];
            if (policy_prefix_overlaps(&other->prefix_p, &ps->prefix_p)) {
                char *where = item_path(POLICY_PROVIDER_SUBNETS,
                                        &other->origin);
                invalid(v, POLICY_PROVIDER_SUBNETS, &ps->origin, "prefix",
                        "%s overlaps provider subnet %s (%s)",
                        ps->prefix, other->prefix, where);
                free(where);
            }
        }
    }
    if (p->n_psubnets > 1) {
        qsort(sorted, p->n_psubnets, sizeof *sorted, compare_psubnet_ptrs);
    }
    return sorted;
}

/* Returns the provider subnet among the 'n' in 'sorted' that holds 'a'. */
static const struct policy_provider_subnet *
find_provider_subnet(const struct policy_provider_subnet **sorted, size_t n,
                     const struct in6_addr *a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr_cmp_by_family(&sorted[mid]->prefix_p.addr, a) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (lo && policy_prefix_contains(&sorted[lo - 1]->prefix_p, a)
            ? sorted[lo - 1] : NULL);
}

static void
check_unique_in_vsid(struct validator *v, struct hmap *seen,
                     const struct policy_lookup_record *r, const char *field,
                     const char *value, const void *bytes, size_t len)
{
    struct vsid_key k = vsid_key(r->vsid, bytes, len);
    const struct policy_lookup_record *first = seen_add(seen, &k, sizeof k, r);
    if (first) {
        char *where = item_path(POLICY_LOOKUP_RECORDS, &first->origin);
        invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, field,
                "%s is already used in VSID %"PRId64" by %s",
                value, r->vsid, where);
        free(where);
    }
}

static void
check_record_pa(struct validator *v, struct hmap *pas,
                const struct policy_lookup_record *r,
                const struct policy_provider_subnet **psubnets)
{
    const struct policy_provider_subnet *ps
        = find_provider_subnet(psubnets, v->policy->n_psubnets, &r->pa_a);
    if (!ps) {
        invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "pa",
                "%s is not inside any provider subnet", r->pa);
    } else if (ps->gateway && !strcmp(ps->gateway, r->pa)) {
        invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "pa",
                "%s is the gateway of provider subnet %s", r->pa, ps->prefix);
    }

    const struct policy_lookup_record *first
        = seen_add(pas, &r->pa_a, sizeof r->pa_a, r);
    if (first && strcmp(first->host, r->host)) {
        char *where = item_path(POLICY_LOOKUP_RECORDS, &first->origin);
        invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "pa",
                "%s belongs to host %s (%s), not %s",
                r->pa, first->host, where, r->host);
        free(where);
    }
}

static void
check_lookup_records(struct validator *v, const struct hmap *vsids,
                     const struct policy_provider_subnet **psubnets)
{
    const struct policy *p = v->policy;
    struct hmap cas = HMAP_INITIALIZER(&cas);
    struct hmap macs = HMAP_INITIALIZER(&macs);
    struct hmap pas = HMAP_INITIALIZER(&pas);

    for (size_t i = 0; i < p->n_records; i++) {
        const struct policy_lookup_record *r = &p->records[i];
        const struct policy_virtual_subnet *vs
            = seen_find(vsids, &r->vsid, sizeof r->vsid);
        if (!vs) {
            invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "vsid",
                    "VSID %"PRId64" is not declared in any routing domain",
                    r->vsid);
        } else if (!policy_prefix_contains(&vs->prefix_p, &r->ca_a)) {
            invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "ca",
                    "%s is outside virtual subnet %"PRId64" (%s)",
                    r->ca, vs->vsid, vs->prefix);
        } else if (vs->gateway && !strcmp(vs->gateway, r->ca)) {
            invalid(v, POLICY_LOOKUP_RECORDS, &r->origin, "ca",
                    "%s is the gateway of virtual subnet %"PRId64,
                    r->ca, vs->vsid);
        }
        check_unique_in_vsid(v, &cas, r, "ca", r->ca,
                             &r->ca_a, sizeof r->ca_a);
        check_unique_in_vsid(v, &macs, r, "mac", r->mac,
                             &r->mac_e, sizeof r->mac_e);
        check_record_pa(v, &pas, r, psubnets);
    }
    seen_destroy(&cas);
    seen_destroy(&macs);
    seen_destroy(&pas);
}

/* Returns true if 'a' is inside one of the virtual subnets of routing domain
 * 'rd'. */
static bool
routing_domain_holds(const struct policy *p, const char *rd,
                     const struct in6_addr *a)
{
    for (size_t i = 0; i < p->n_vsubnets; i++) {
        const struct policy_virtual_subnet *vs = &p->vsubnets[i];
        if (!strcmp(vs->routing_domain, rd)
            && policy_prefix_contains(&vs->prefix_p, a)) {
            return true;
        }
    }
    return false;
}

static void
check_customer_routes(struct validator *v, const struct hmap *rds)
{
    const struct policy *p = v->policy;
    struct hmap routes = HMAP_INITIALIZER(&routes);

    for (size_t i = 0; i < p->n_routes; i++) {
        const struct policy_customer_route *cr = &p->routes[i];
        const struct policy_origin *o = &cr->origin;

        if (!seen_find(rds, cr->routing_domain, strlen(cr->routing_domain))) {
            invalid(v, POLICY_CUSTOMER_ROUTES, o, "routing_domain",
                    "no routing domain is named %s", cr->routing_domain);
        } else if (policy_addr_is_ipv4(&cr->prefix_p.addr)
                   != policy_addr_is_ipv4(&cr->next_hop_a)) {
            invalid(v, POLICY_CUSTOMER_ROUTES, o, "next_hop",
                    "%s is not of the same IP version as prefix %s",
                    cr->next_hop, cr->prefix);
        } else if (!routing_domain_holds(p, cr->routing_domain,
                                         &cr->next_hop_a)) {
            invalid(v, POLICY_CUSTOMER_ROUTES, o, "next_hop",
                    "%s is not inside any virtual subnet of routing "
                    "domain %s", cr->next_hop, cr->routing_domain);
        }

        char *key = xasprintf("%s %s", cr->routing_domain, cr->prefix);
        const struct policy_customer_route *first
            = seen_add(&routes, key, strlen(key), cr);
        if (first) {
            char *where = item_path(POLICY_CUSTOMER_ROUTES, &first->origin);
            invalid(v, POLICY_CUSTOMER_ROUTES, o, "prefix",
                    "routing domain %s already has a route to %s (%s)",
                    cr->routing_domain, cr->prefix, where);
            free(where);
        }
        free(key);
    }
    seen_destroy(&routes);
}

bool
policy_validate(const struct policy *policy, const char *file_name,
                struct svec *errors)
{
    struct validator v = {
        .policy = policy, .name = file_name, .errors = errors
    };
    size_t n_errors = errors->n;
    struct hmap rds = HMAP_INITIALIZER(&rds);
    struct hmap vsids = HMAP_INITIALIZER(&vsids);

    check_routing_domains(&v, &rds);
    check_virtual_subnets(&v, &vsids);
    const struct policy_provider_subnet **psubnets
        = check_provider_subnets(&v);
    check_lookup_records(&v, &vsids, psubnets);
    check_customer_routes(&v, &rds);

    free(psubnets);
    seen_destroy(&rds);
    seen_destroy(&vsids);
    return errors->n == n_errors;
}
