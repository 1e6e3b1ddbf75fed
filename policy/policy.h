/* The vmroam policy: tenants' virtual networks and where each customer
 * address lives.
 *
 * A 'struct policy' is the in-memory form of a policy file and of the
 * policy tables of the vmroam database, so that parsing, validation, the
 * canonical form and diffs work the same whichever side a policy comes from.
 * Every item keeps its text as given (canonicalized by policy_canonicalize())
 * next to the parsed form used for checks and ordering.
 *
 * In the canonical form every array is sorted by its key and every address,
 * prefix and MAC is written in one standard way, so two policies that mean the
 * same compare equal item by item and export-then-apply is a no-op. */

#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/uuid.h"
#include "packets.h"
#include "policy/prefix.h"

struct ds;
struct json;

#define POLICY_VSID_MIN 4096
#define POLICY_VSID_MAX 16777214

/* Where an item came from (the first member of every item, so that code
 * common to all tables can find it): its JSON path in a file (for error messages), or
 * its row in the database (so that an apply can update or delete it). */
struct policy_origin {
    size_t index;               /* Index in its array in the file. */
    size_t parent;              /* Index of the enclosing routing domain. */
    struct uuid row;            /* Row UUID, when read from the database. */
};

struct policy_routing_domain {
    struct policy_origin origin;   /* Must be first. */
    char *name;
};

struct policy_virtual_subnet {
    struct policy_origin origin;   /* Must be first. */
    int64_t vsid;
    char *routing_domain;
    char *prefix;
    char *gateway;              /* May be NULL. */

    struct policy_prefix prefix_p;
    struct in6_addr gateway_a;
};

struct policy_provider_subnet {
    struct policy_origin origin;   /* Must be first. */
    char *footprint;
    char *prefix;
    char *gateway;              /* May be NULL. */

    struct policy_prefix prefix_p;
    struct in6_addr gateway_a;
};

struct policy_lookup_record {
    struct policy_origin origin;   /* Must be first. */
    int64_t vsid;
    char *ca;
    char *mac;
    char *pa;
    char *host;
    char *vm;                   /* May be NULL. */

    struct in6_addr ca_a;
    struct eth_addr mac_e;
    struct in6_addr pa_a;
};

struct policy_customer_route {
    struct policy_origin origin;   /* Must be first. */
    char *routing_domain;
    char *prefix;
    char *next_hop;
    int64_t metric;

    struct policy_prefix prefix_p;
    struct in6_addr next_hop_a;
};

struct policy {
    struct policy_routing_domain *rds;
    size_t n_rds, allocated_rds;
    struct policy_virtual_subnet *vsubnets;
    size_t n_vsubnets, allocated_vsubnets;
    struct policy_provider_subnet *psubnets;
    size_t n_psubnets, allocated_psubnets;
    struct policy_lookup_record *records;
    size_t n_records, allocated_records;
    struct policy_customer_route *routes;
    size_t n_routes, allocated_routes;
};

/* The tables of a policy, in the order they are parsed, applied and shown.
 * Each has a class so that sorting, diffing and freeing work the same way on
 * all of them. */
enum policy_table {
    POLICY_ROUTING_DOMAINS,
    POLICY_VIRTUAL_SUBNETS,
    POLICY_PROVIDER_SUBNETS,
    POLICY_LOOKUP_RECORDS,
    POLICY_CUSTOMER_ROUTES,
    POLICY_N_TABLES
};

struct policy_table_class {
    const char *name;           /* Database table, e.g. "Lookup_Record". */
    size_t item_size;
    size_t items_offset;        /* offsetof(struct policy, <array>). */
    size_t n_offset;            /* offsetof(struct policy, n_<array>). */
    size_t allocated_offset;    /* offsetof(struct policy,
                                 * allocated_<array>). */
    int (*cmp)(const void *, const void *);     /* By key. */
    bool (*equal)(const void *, const void *);  /* Same key and value. */
    void (*destroy)(void *);
    void (*format)(const void *, struct ds *);  /* Human one-liner. */
    struct json *(*to_json)(const void *);      /* Flat JSON object. */
    const char *const *fields;  /* Members of to_json(), in display order. */
};

extern const struct policy_table_class policy_tables[POLICY_N_TABLES];

size_t policy_n_items(const struct policy *, enum policy_table);
void *policy_item(const struct policy *, enum policy_table, size_t i);
void policy_drop_last(struct policy *, enum policy_table);
void policy_remove(struct policy *, enum policy_table, size_t i);

void policy_init(struct policy *);
void policy_clear(struct policy *, enum policy_table);
void policy_destroy(struct policy *);

struct policy_routing_domain *policy_add_routing_domain(struct policy *);
struct policy_virtual_subnet *policy_add_virtual_subnet(struct policy *);
struct policy_provider_subnet *policy_add_provider_subnet(struct policy *);
struct policy_lookup_record *policy_add_lookup_record(struct policy *);
struct policy_customer_route *policy_add_customer_route(struct policy *);

void policy_canonicalize(struct policy *);
struct json *policy_to_json(const struct policy *);

#endif /* policy/policy.h */
