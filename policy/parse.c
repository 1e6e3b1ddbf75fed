#include <config.h>

#include "policy/parse.h"

#include <stdarg.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "policy/policy.h"
#include "svec.h"
#include "util.h"

/* Context of one parse: where errors go and how to name their place. */
struct parser {
    const char *name;           /* File name for messages. */
    struct svec *errors;
    bool ok;                    /* No error in the current item so far. */
};

/* Reports a problem with 'field' (or the whole item, if NULL) of the item at
 * 'path'. */
static void OVS_PRINTF_FORMAT(4, 5)
parse_error(struct parser *pr, const char *path, const char *field,
            const char *format, ...)
{
    struct ds msg = DS_EMPTY_INITIALIZER;
    va_list args;

    ds_put_format(&msg, "%s: %s%s%s: ", pr->name, path,
                  path[0] && field ? "." : "", field ? field : "");
    va_start(args, format);
    ds_put_format_valist(&msg, format, args);
    va_end(args);
    svec_add_nocopy(pr->errors, ds_steal_cstr(&msg));
    pr->ok = false;
}

static const char *
json_type_article(enum json_type type)
{
    switch (type) {
    case JSON_NULL: return "null";
    case JSON_FALSE: case JSON_TRUE: return "a boolean";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_STRING: return "a string";
    case JSON_N_TYPES: default: return "a value";
    }
}

/* Checks that 'object' (at 'path') is an object whose members are all in the
 * NULL-terminated 'fields'. */
static bool
check_object(struct parser *pr, const char *path, const struct json *object,
             const char *const *fields)
{
    if (object->type != JSON_OBJECT) {
        parse_error(pr, path, NULL, "expected an object, got %s",
                    json_type_article(object->type));
        return false;
    }

    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(object)) {
        const char *const *f;
        for (f = fields; *f && strcmp(*f, node->name); f++) {
            continue;
        }
        if (!*f) {
            struct ds expected = DS_EMPTY_INITIALIZER;
            for (f = fields; *f; f++) {
                ds_put_format(&expected, "%s%s", f == fields ? "" : ", ", *f);
            }
            parse_error(pr, path, NULL,
                        "unknown field \"%s\" (expected one of: %s)",
                        node->name, ds_cstr(&expected));
            ds_destroy(&expected);
        }
    }
    return true;
}

/* Returns member 'field' of 'object' if it has 'type', otherwise reports an
 * error (a missing member only if 'required') and returns NULL. */
static const struct json *
get_member(struct parser *pr, const char *path, const struct json *object,
           const char *field, enum json_type type, bool required)
{
    const struct json *value = shash_find_data(json_object(object), field);
    if (!value) {
        if (required) {
            parse_error(pr, path, NULL, "missing required field \"%s\"",
                        field);
        }
        return NULL;
    }
    if (value->type != type) {
        parse_error(pr, path, field, "expected %s, got %s",
                    json_type_article(type), json_type_article(value->type));
        return NULL;
    }
    return value;
}

static char *
get_string(struct parser *pr, const char *path, const struct json *object,
           const char *field, bool required)
{
    const struct json *value = get_member(pr, path, object, field,
                                          JSON_STRING, required);
    if (value && !json_string(value)[0]) {
        parse_error(pr, path, field, "must not be empty");
        return NULL;
    }
    return value ? xstrdup(json_string(value)) : NULL;
}

static int64_t
get_integer(struct parser *pr, const char *path, const struct json *object,
            const char *field, bool required, int64_t default_)
{
    const struct json *value = get_member(pr, path, object, field,
                                          JSON_INTEGER, required);
    return value ? json_integer(value) : default_;
}

/* Reports 'error' (which it frees) for 'field' of the item at 'path'. */
static void
field_error(struct parser *pr, const char *path, const char *field,
            char *error)
{
    if (error) {
        parse_error(pr, path, field, "%s", error);
        free(error);
    }
}

char *
policy_parse_vsid(int64_t vsid)
{
    if (vsid < POLICY_VSID_MIN || vsid > POLICY_VSID_MAX) {
        return xasprintf("%"PRId64" is out of range (%d to %d)",
                         vsid, POLICY_VSID_MIN, POLICY_VSID_MAX);
    }
    return NULL;
}

char *
policy_parse_addr(char **text, struct in6_addr *a)
{
    char *error = policy_addr_parse(*text, a);
    if (!error) {
        free(*text);
        *text = policy_addr_to_string(a);
    }
    return error;
}

char *
policy_parse_prefix(char **text, struct policy_prefix *p)
{
    char *error = policy_prefix_parse(*text, p);
    if (!error) {
        free(*text);
        *text = policy_prefix_to_string(p);
    }
    return error;
}

char *
policy_parse_mac(char **text, struct eth_addr *mac)
{
    if (!eth_addr_from_string(*text, mac)) {
        return xasprintf("%s is not a MAC address (expected "
                         "xx:xx:xx:xx:xx:xx)", *text);
    }
    if (eth_addr_is_multicast(*mac)) {
        return xasprintf("%s is a multicast MAC; a VM's MAC must be unicast",
                         *text);
    }
    if (eth_addr_is_zero(*mac)) {
        return xasprintf("%s is not a usable MAC", *text);
    }
    free(*text);
    *text = xasprintf(ETH_ADDR_FMT, ETH_ADDR_ARGS(*mac));
    return NULL;
}

/* Parses the optional address 'field' into '*text' and '*a'. */
static void
parse_optional_addr(struct parser *pr, const char *path,
                    const struct json *o, const char *field,
                    char **text, struct in6_addr *a)
{
    *text = get_string(pr, path, o, field, false);
    if (*text) {
        field_error(pr, path, field, policy_parse_addr(text, a));
    }
}

static void
parse_required_addr(struct parser *pr, const char *path,
                    const struct json *o, const char *field,
                    char **text, struct in6_addr *a)
{
    *text = get_string(pr, path, o, field, true);
    if (*text) {
        field_error(pr, path, field, policy_parse_addr(text, a));
    }
}

static void
parse_prefix(struct parser *pr, const char *path, const struct json *o,
             char **text, struct policy_prefix *p)
{
    *text = get_string(pr, path, o, "prefix", true);
    if (*text) {
        field_error(pr, path, "prefix", policy_parse_prefix(text, p));
    }
}

static int64_t
parse_vsid(struct parser *pr, const char *path, const struct json *o)
{
    int64_t vsid = get_integer(pr, path, o, "vsid", true, 0);
    if (pr->ok) {
        field_error(pr, path, "vsid", policy_parse_vsid(vsid));
    }
    return vsid;
}

/* Calls 'parse_item' for each element of top-level array 'field' of 'top'.
 * Each callback starts with pr->ok true; an item that ends with pr->ok false
 * is dropped by the callback's caller through 'drop'. */
static void
for_each_element(struct parser *pr, const struct json *top, const char *field,
                 void (*parse_item)(struct parser *, struct policy *,
                                    const char *path, const struct json *,
                                    size_t index, size_t parent),
                 struct policy *policy, const char *parent_path,
                 size_t parent)
{
    const struct json *array = get_member(pr, parent_path, top, field,
                                          JSON_ARRAY, false);
    if (!array) {
        return;
    }
    const struct json_array *a = json_array(array);
    for (size_t i = 0; i < a->n; i++) {
        char *path = (parent_path[0]
                      ? xasprintf("%s.%s[%"PRIuSIZE"]", parent_path, field, i)
                      : xasprintf("%s[%"PRIuSIZE"]", field, i));
        parse_item(pr, policy, path, a->elems[i], i, parent);
        free(path);
    }
}

static void
parse_virtual_subnet(struct parser *pr, struct policy *policy,
                     const char *path, const struct json *o,
                     size_t index, size_t parent)
{
    static const char *const fields[] = { "vsid", "prefix", "gateway", NULL };
    if (!check_object(pr, path, o, fields)) {
        return;
    }

    bool ok = pr->ok;
    pr->ok = true;
    struct policy_virtual_subnet *vs = policy_add_virtual_subnet(policy);
    vs->origin.index = index;
    vs->origin.parent = parent;
    vs->routing_domain = xstrdup(policy->rds[policy->n_rds - 1].name);
    vs->vsid = parse_vsid(pr, path, o);
    parse_prefix(pr, path, o, &vs->prefix, &vs->prefix_p);
    parse_optional_addr(pr, path, o, "gateway", &vs->gateway, &vs->gateway_a);
    if (!pr->ok) {
        policy_drop_last(policy, POLICY_VIRTUAL_SUBNETS);
    }
    pr->ok = ok && pr->ok;
}

static void
parse_routing_domain(struct parser *pr, struct policy *policy,
                     const char *path, const struct json *o,
                     size_t index, size_t parent OVS_UNUSED)
{
    static const char *const fields[] = { "name", "virtual_subnets", NULL };
    if (!check_object(pr, path, o, fields)) {
        return;
    }

    char *name = get_string(pr, path, o, "name", true);
    if (!name) {
        return;
    }
    struct policy_routing_domain *rd = policy_add_routing_domain(policy);
    rd->name = name;
    rd->origin.index = index;
    for_each_element(pr, o, "virtual_subnets", parse_virtual_subnet, policy,
                     path, index);
}

static void
parse_provider_subnet(struct parser *pr, struct policy *policy,
                      const char *path, const struct json *o,
                      size_t index, size_t parent OVS_UNUSED)
{
    static const char *const fields[] = {
        "footprint", "prefix", "gateway", NULL
    };
    if (!check_object(pr, path, o, fields)) {
        return;
    }

    pr->ok = true;
    struct policy_provider_subnet *ps = policy_add_provider_subnet(policy);
    ps->origin.index = index;
    ps->footprint = get_string(pr, path, o, "footprint", true);
    parse_prefix(pr, path, o, &ps->prefix, &ps->prefix_p);
    parse_optional_addr(pr, path, o, "gateway", &ps->gateway, &ps->gateway_a);
    if (!pr->ok) {
        policy_drop_last(policy, POLICY_PROVIDER_SUBNETS);
    }
}

static void
parse_lookup_record(struct parser *pr, struct policy *policy,
                    const char *path, const struct json *o,
                    size_t index, size_t parent OVS_UNUSED)
{
    static const char *const fields[] = {
        "vsid", "ca", "mac", "pa", "host", "vm", NULL
    };
    if (!check_object(pr, path, o, fields)) {
        return;
    }

    pr->ok = true;
    struct policy_lookup_record *r = policy_add_lookup_record(policy);
    r->origin.index = index;
    r->vsid = parse_vsid(pr, path, o);
    parse_required_addr(pr, path, o, "ca", &r->ca, &r->ca_a);
    r->mac = get_string(pr, path, o, "mac", true);
    if (r->mac) {
        field_error(pr, path, "mac", policy_parse_mac(&r->mac, &r->mac_e));
    }
    parse_required_addr(pr, path, o, "pa", &r->pa, &r->pa_a);
    r->host = get_string(pr, path, o, "host", true);
    r->vm = get_string(pr, path, o, "vm", false);
    if (!pr->ok) {
        policy_drop_last(policy, POLICY_LOOKUP_RECORDS);
    }
}

static void
parse_customer_route(struct parser *pr, struct policy *policy,
                     const char *path, const struct json *o,
                     size_t index, size_t parent OVS_UNUSED)
{
    static const char *const fields[] = {
        "routing_domain", "prefix", "next_hop", "metric", NULL
    };
    if (!check_object(pr, path, o, fields)) {
        return;
    }

    pr->ok = true;
    struct policy_customer_route *cr = policy_add_customer_route(policy);
    cr->origin.index = index;
    cr->routing_domain = get_string(pr, path, o, "routing_domain", true);
    parse_prefix(pr, path, o, &cr->prefix, &cr->prefix_p);
    parse_required_addr(pr, path, o, "next_hop", &cr->next_hop,
                        &cr->next_hop_a);
    cr->metric = get_integer(pr, path, o, "metric", false, 0);
    if (cr->metric < 0) {
        parse_error(pr, path, "metric", "%"PRId64" is negative", cr->metric);
    }
    if (!pr->ok) {
        policy_drop_last(policy, POLICY_CUSTOMER_ROUTES);
    }
}

bool
policy_from_json(const struct json *json, const char *name,
                 struct policy *policy, struct svec *errors)
{
    static const char *const fields[] = {
        "routing_domains", "provider_subnets", "lookup_records",
        "customer_routes", NULL
    };
    struct parser pr = { .name = name, .errors = errors, .ok = true };
    size_t n_errors = errors->n;

    if (check_object(&pr, "top level", json, fields)) {
        for_each_element(&pr, json, "routing_domains", parse_routing_domain,
                         policy, "", 0);
        for_each_element(&pr, json, "provider_subnets",
                         parse_provider_subnet, policy, "", 0);
        for_each_element(&pr, json, "lookup_records", parse_lookup_record,
                         policy, "", 0);
        for_each_element(&pr, json, "customer_routes", parse_customer_route,
                         policy, "", 0);
    }
    return errors->n == n_errors;
}

/* Reports a syntax error from the JSON parser, which reads "line L, column
 * C, byte B: message"; lines and columns count from 0 there. */
static void
syntax_error(const char *name, const char *msg, struct svec *errors)
{
    int line, column, byte, n = 0;
    if (sscanf(msg, "line %d, column %d, byte %d: %n",
               &line, &column, &byte, &n) == 3 && n) {
        svec_add_nocopy(errors, xasprintf("%s: line %d, column %d: %s",
                                          name, line + 1, column + 1,
                                          msg + n));
    } else {
        svec_add_nocopy(errors, xasprintf("%s: %s", name, msg));
    }
}

static bool
policy_from_parsed(struct json *json, const char *name,
                   struct policy *policy, struct svec *errors)
{
    bool ok;
    if (json->type == JSON_STRING) {
        syntax_error(name, json_string(json), errors);
        ok = false;
    } else {
        ok = policy_from_json(json, name, policy, errors);
    }
    json_destroy(json);
    return ok;
}

bool
policy_parse_file(const char *file_name, struct policy *policy,
                  struct svec *errors)
{
    return policy_from_parsed(json_from_file(file_name), file_name, policy,
                              errors);
}

bool
policy_parse_string(const char *text, const char *name,
                    struct policy *policy, struct svec *errors)
{
    return policy_from_parsed(json_from_string(text), name, policy, errors);
}
