#include <config.h>

#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

static int
int64_cmp(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static bool
nullable_streq(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

static void
put_optional(struct ds *s, const char *label, const char *value)
{
    if (value) {
        ds_put_format(s, " %s %s", label, value);
    }
}

static void
put_string(struct json *object, const char *name, const char *value)
{
    if (value) {
        json_object_put_string(object, name, value);
    }
}

/* Routing_Domain. */

static int
routing_domain_cmp(const void *a_, const void *b_)
{
    const struct policy_routing_domain *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static bool
routing_domain_equal(const void *a, const void *b)
{
    return !routing_domain_cmp(a, b);
}

static void
routing_domain_destroy(void *rd_)
{
    struct policy_routing_domain *rd = rd_;
    free(rd->name);
}

static void
routing_domain_format(const void *rd_, struct ds *s)
{
    const struct policy_routing_domain *rd = rd_;
    ds_put_cstr(s, rd->name);
}

static struct json *
routing_domain_to_json(const void *rd_)
{
    const struct policy_routing_domain *rd = rd_;
    struct json *o = json_object_create();
    json_object_put_string(o, "name", rd->name);
    return o;
}

static const char *const routing_domain_fields[] = { "name", NULL };

/* Virtual_Subnet. */

static int
virtual_subnet_cmp(const void *a_, const void *b_)
{
    const struct policy_virtual_subnet *a = a_, *b = b_;
    return int64_cmp(a->vsid, b->vsid);
}

static bool
virtual_subnet_equal(const void *a_, const void *b_)
{
    const struct policy_virtual_subnet *a = a_, *b = b_;
    return (a->vsid == b->vsid
            && !strcmp(a->routing_domain, b->routing_domain)
            && !strcmp(a->prefix, b->prefix)
            && nullable_streq(a->gateway, b->gateway));
}

static void
virtual_subnet_destroy(void *vs_)
{
    struct policy_virtual_subnet *vs = vs_;
    free(vs->routing_domain);
    free(vs->prefix);
    free(vs->gateway);
}

static void
virtual_subnet_format(const void *vs_, struct ds *s)
{
    const struct policy_virtual_subnet *vs = vs_;
    ds_put_format(s, "vsid %"PRId64" %s in %s", vs->vsid, vs->prefix,
                  vs->routing_domain);
    put_optional(s, "gateway", vs->gateway);
}

static struct json *
virtual_subnet_to_json(const void *vs_)
{
    const struct policy_virtual_subnet *vs = vs_;
    struct json *o = json_object_create();
    json_object_put(o, "vsid", json_integer_create(vs->vsid));
    put_string(o, "routing_domain", vs->routing_domain);
    put_string(o, "prefix", vs->prefix);
    put_string(o, "gateway", vs->gateway);
    return o;
}

static const char *const virtual_subnet_fields[] = {
    "vsid", "routing_domain", "prefix", "gateway", NULL
};

/* Provider_Subnet. */

static int
provider_subnet_cmp(const void *a_, const void *b_)
{
    const struct policy_provider_subnet *a = a_, *b = b_;
    return policy_prefix_cmp(&a->prefix_p, &b->prefix_p);
}

static bool
provider_subnet_equal(const void *a_, const void *b_)
{
    const struct policy_provider_subnet *a = a_, *b = b_;
    return (!strcmp(a->prefix, b->prefix)
            && !strcmp(a->footprint, b->footprint)
            && nullable_streq(a->gateway, b->gateway));
}

static void
provider_subnet_destroy(void *ps_)
{
    struct policy_provider_subnet *ps = ps_;
    free(ps->footprint);
    free(ps->prefix);
    free(ps->gateway);
}

static void
provider_subnet_format(const void *ps_, struct ds *s)
{
    const struct policy_provider_subnet *ps = ps_;
    ds_put_format(s, "%s footprint %s", ps->prefix, ps->footprint);
    put_optional(s, "gateway", ps->gateway);
}

static struct json *
provider_subnet_to_json(const void *ps_)
{
    const struct policy_provider_subnet *ps = ps_;
    struct json *o = json_object_create();
    put_string(o, "footprint", ps->footprint);
    put_string(o, "prefix", ps->prefix);
    put_string(o, "gateway", ps->gateway);
    return o;
}

static const char *const provider_subnet_fields[] = {
    "footprint", "prefix", "gateway", NULL
};

/* Lookup_Record. */

static int
lookup_record_cmp(const void *a_, const void *b_)
{
    const struct policy_lookup_record *a = a_, *b = b_;
    int cmp = int64_cmp(a->vsid, b->vsid);
    return cmp ? cmp : policy_addr_cmp(&a->ca_a, &b->ca_a);
}

static bool
lookup_record_equal(const void *a_, const void *b_)
{
    const struct policy_lookup_record *a = a_, *b = b_;
    return (a->vsid == b->vsid
            && !strcmp(a->ca, b->ca)
            && !strcmp(a->mac, b->mac)
            && !strcmp(a->pa, b->pa)
            && !strcmp(a->host, b->host)
            && nullable_streq(a->vm, b->vm));
}

static void
lookup_record_destroy(void *r_)
{
    struct policy_lookup_record *r = r_;
    free(r->ca);
    free(r->mac);
    free(r->pa);
    free(r->host);
    free(r->vm);
}

static void
lookup_record_format(const void *r_, struct ds *s)
{
    const struct policy_lookup_record *r = r_;
    ds_put_format(s, "vsid %"PRId64" %s %s -> %s on %s", r->vsid, r->ca,
                  r->mac, r->pa, r->host);
    put_optional(s, "vm", r->vm);
}

static struct json *
lookup_record_to_json(const void *r_)
{
    const struct policy_lookup_record *r = r_;
    struct json *o = json_object_create();
    json_object_put(o, "vsid", json_integer_create(r->vsid));
    put_string(o, "ca", r->ca);
    put_string(o, "mac", r->mac);
    put_string(o, "pa", r->pa);
    put_string(o, "host", r->host);
    put_string(o, "vm", r->vm);
    return o;
}

static const char *const lookup_record_fields[] = {
    "vsid", "ca", "mac", "pa", "host", "vm", NULL
};

/* Customer_Route. */

static int
customer_route_cmp(const void *a_, const void *b_)
{
    const struct policy_customer_route *a = a_, *b = b_;
    int cmp = strcmp(a->routing_domain, b->routing_domain);
    return cmp ? cmp : policy_prefix_cmp(&a->prefix_p, &b->prefix_p);
}

static bool
customer_route_equal(const void *a_, const void *b_)
{
    const struct policy_customer_route *a = a_, *b = b_;
    return (!customer_route_cmp(a, b)
            && !strcmp(a->next_hop, b->next_hop)
            && a->metric == b->metric);
}

static void
customer_route_destroy(void *cr_)
{
    struct policy_customer_route *cr = cr_;
    free(cr->routing_domain);
    free(cr->prefix);
    free(cr->next_hop);
}

static void
customer_route_format(const void *cr_, struct ds *s)
{
    const struct policy_customer_route *cr = cr_;
    ds_put_format(s, "%s %s via %s metric %"PRId64, cr->routing_domain,
                  cr->prefix, cr->next_hop, cr->metric);
}

static struct json *
customer_route_to_json(const void *cr_)
{
    const struct policy_customer_route *cr = cr_;
    struct json *o = json_object_create();
    put_string(o, "routing_domain", cr->routing_domain);
    put_string(o, "prefix", cr->prefix);
    put_string(o, "next_hop", cr->next_hop);
    json_object_put(o, "metric", json_integer_create(cr->metric));
    return o;
}

static const char *const customer_route_fields[] = {
    "routing_domain", "prefix", "next_hop", "metric", NULL
};

#define POLICY_TABLE(NAME, ARRAY, PREFIX)                               \
    {                                                                   \
        NAME, sizeof *((struct policy *) NULL)->ARRAY,                  \
        offsetof(struct policy, ARRAY), offsetof(struct policy, n_##ARRAY), \
        offsetof(struct policy, allocated_##ARRAY),                     \
        PREFIX##_cmp, PREFIX##_equal, PREFIX##_destroy, PREFIX##_format, \
        PREFIX##_to_json, PREFIX##_fields                               \
    }

const struct policy_table_class policy_tables[POLICY_N_TABLES] = {
    [POLICY_ROUTING_DOMAINS] = POLICY_TABLE("Routing_Domain", rds,
                                            routing_domain),
    [POLICY_VIRTUAL_SUBNETS] = POLICY_TABLE("Virtual_Subnet", vsubnets,
                                            virtual_subnet),
    [POLICY_PROVIDER_SUBNETS] = POLICY_TABLE("Provider_Subnet", psubnets,
                                             provider_subnet),
    [POLICY_LOOKUP_RECORDS] = POLICY_TABLE("Lookup_Record", records,
                                           lookup_record),
    [POLICY_CUSTOMER_ROUTES] = POLICY_TABLE("Customer_Route", routes,
                                            customer_route),
};

size_t
policy_n_items(const struct policy *p, enum policy_table t)
{
    return *(const size_t *) ((const char *) p + policy_tables[t].n_offset);
}

void *
policy_item(const struct policy *p, enum policy_table t, size_t i)
{
    const struct policy_table_class *c = &policy_tables[t];
    char *items = *(char **) ((char *) p + c->items_offset);
    return items + i * c->item_size;
}

/* Frees the last item of table 't' and removes it, for a parser that gives
 * up on an item it has started to fill in. */
void
policy_drop_last(struct policy *p, enum policy_table t)
{
    size_t *n = (size_t *) ((char *) p + policy_tables[t].n_offset);
    policy_tables[t].destroy(policy_item(p, t, *n - 1));
    (*n)--;
}

/* Removes item 'i' of table 't'; the last item takes its place. */
void
policy_remove(struct policy *p, enum policy_table t, size_t i)
{
    size_t *n = (size_t *) ((char *) p + policy_tables[t].n_offset);
    void *item = policy_item(p, t, i);
    policy_tables[t].destroy(item);
    if (i != *n - 1) {
        memcpy(item, policy_item(p, t, *n - 1), policy_tables[t].item_size);
    }
    (*n)--;
}

void
policy_init(struct policy *p)
{
    memset(p, 0, sizeof *p);
}

/* Frees every item of table 't' and its array, leaving it empty. */
void
policy_clear(struct policy *p, enum policy_table t)
{
    const struct policy_table_class *c = &policy_tables[t];
    for (size_t i = 0; i < policy_n_items(p, t); i++) {
        c->destroy(policy_item(p, t, i));
    }
    void **items = (void **) ((char *) p + c->items_offset);
    free(*items);
    *items = NULL;
    *(size_t *) ((char *) p + c->n_offset) = 0;
    *(size_t *) ((char *) p + c->allocated_offset) = 0;
}

void
policy_destroy(struct policy *p)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        policy_clear(p, t);
    }
}

/* Appends a zeroed element of 'size' bytes to '*array' and returns it. */
static void *
append(void **array, size_t *n, size_t *allocated, size_t size)
{
    if (*n >= *allocated) {
        *array = x2nrealloc(*array, allocated, size);
    }
    void *item = (char *) *array + (*n)++ * size;
    memset(item, 0, size);
    return item;
}

#define POLICY_APPEND(P, ARRAY, N)                                  \
    append((void **) &(P)->ARRAY, &(P)->n_##N, &(P)->allocated_##N, \
           sizeof *(P)->ARRAY)

struct policy_routing_domain *
policy_add_routing_domain(struct policy *p)
{
    return POLICY_APPEND(p, rds, rds);
}

struct policy_virtual_subnet *
policy_add_virtual_subnet(struct policy *p)
{
    return POLICY_APPEND(p, vsubnets, vsubnets);
}

struct policy_provider_subnet *
policy_add_provider_subnet(struct policy *p)
{
    return POLICY_APPEND(p, psubnets, psubnets);
}

struct policy_lookup_record *
policy_add_lookup_record(struct policy *p)
{
    return POLICY_APPEND(p, records, records);
}

struct policy_customer_route *
policy_add_customer_route(struct policy *p)
{
    return POLICY_APPEND(p, routes, routes);
}

void
policy_canonicalize(struct policy *p)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        const struct policy_table_class *c = &policy_tables[t];
        size_t n = policy_n_items(p, t);
        if (n > 1) {
            qsort(policy_item(p, t, 0), n, c->item_size, c->cmp);
        }
    }
}

/* Nests each routing domain's virtual subnets inside it, as in the file
 * format.  Both arrays are sorted, so the output is canonical. */
static struct json *
routing_domains_to_json(const struct policy *p)
{
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < p->n_rds; i++) {
        struct json *rd = routing_domain_to_json(&p->rds[i]);
        struct json *subnets = json_array_create_empty();
        for (size_t j = 0; j < p->n_vsubnets; j++) {
            const struct policy_virtual_subnet *vs = &p->vsubnets[j];
            if (!strcmp(vs->routing_domain, p->rds[i].name)) {
                struct json *o = virtual_subnet_to_json(vs);
                json_destroy(shash_find_and_delete(json_object(o),
                                                  "routing_domain"));
                json_array_add(subnets, o);
            }
        }
        json_object_put(rd, "virtual_subnets", subnets);
        json_array_add(array, rd);
    }
    return array;
}

static struct json *
table_to_json(const struct policy *p, enum policy_table t)
{
    struct json *array = json_array_create_empty();
    for (size_t i = 0; i < policy_n_items(p, t); i++) {
        json_array_add(array, policy_tables[t].to_json(policy_item(p, t, i)));
    }
    return array;
}

/* Returns 'p' in the policy file format.  Call policy_canonicalize() first
 * for the canonical form. */
struct json *
policy_to_json(const struct policy *p)
{
    struct json *o = json_object_create();
    json_object_put(o, "routing_domains", routing_domains_to_json(p));
    json_object_put(o, "provider_subnets",
                    table_to_json(p, POLICY_PROVIDER_SUBNETS));
    json_object_put(o, "lookup_records",
                    table_to_json(p, POLICY_LOOKUP_RECORDS));
    json_object_put(o, "customer_routes",
                    table_to_json(p, POLICY_CUSTOMER_ROUTES));
    return o;
}
