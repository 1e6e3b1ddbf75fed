#include <config.h>

#include "policy/prefix.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

bool
policy_addr_is_ipv4(const struct in6_addr *a)
{
    return IN6_IS_ADDR_V4MAPPED(a);
}

char *
policy_addr_parse(const char *s, struct in6_addr *a)
{
    ovs_be32 ip4;

    if (inet_pton(AF_INET, s, &ip4) == 1) {
        in6_addr_set_mapped_ipv4(a, ip4);
        return NULL;
    }
    if (inet_pton(AF_INET6, s, a) == 1) {
        if (policy_addr_is_ipv4(a)) {
            return xasprintf("%s: write IPv4 addresses in dotted form", s);
        }
        return NULL;
    }
    return xasprintf("%s is not an IPv4 or IPv6 address", s);
}

char *
policy_prefix_parse(const char *s, struct policy_prefix *p)
{
    const char *slash = strchr(s, '/');
    if (!slash) {
        return xasprintf("%s is not a prefix (expected ADDRESS/LENGTH)", s);
    }

    char *addr_s = xmemdup0(s, slash - s);
    char *error = policy_addr_parse(addr_s, &p->addr);
    free(addr_s);
    if (error) {
        free(error);
        return xasprintf("%s: bad address before the '/'", s);
    }

    bool ipv4 = policy_addr_is_ipv4(&p->addr);
    unsigned int max = ipv4 ? 32 : 128;
    char *end;
    const char *len_s = slash + 1;
    unsigned long len = strtoul(len_s, &end, 10);
    if (!*len_s || *end || len > max || !isdigit((unsigned char) *len_s)) {
        return xasprintf("%s: prefix length must be 0 to %u", s, max);
    }
    p->plen = len + (ipv4 ? 96 : 0);

    struct in6_addr mask = ipv6_create_mask(p->plen);
    struct in6_addr net = ipv6_addr_bitand(&p->addr, &mask);
    if (!ipv6_addr_equals(&net, &p->addr)) {
        struct policy_prefix fixed = { .addr = net, .plen = p->plen };
        char *hint = policy_prefix_to_string(&fixed);
        error = xasprintf("%s has host bits set (did you mean %s?)", s, hint);
        free(hint);
        return error;
    }
    return NULL;
}

int
policy_addr_cmp(const struct in6_addr *a, const struct in6_addr *b)
{
    return memcmp(a, b, sizeof *a);
}

void
policy_addr_format(const struct in6_addr *a, struct ds *s)
{
    char buf[INET6_ADDRSTRLEN];
    if (policy_addr_is_ipv4(a)) {
        inet_ntop(AF_INET, &a->s6_addr[12], buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, a, buf, sizeof buf);
    }
    ds_put_cstr(s, buf);
}

char *
policy_addr_to_string(const struct in6_addr *a)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    policy_addr_format(a, &s);
    return ds_steal_cstr(&s);
}

int
policy_prefix_cmp(const struct policy_prefix *a, const struct policy_prefix *b)
{
    int cmp = policy_addr_cmp(&a->addr, &b->addr);
    return cmp ? cmp : (a->plen > b->plen) - (a->plen < b->plen);
}

bool
policy_prefix_contains(const struct policy_prefix *p, const struct in6_addr *a)
{
    if (policy_addr_is_ipv4(&p->addr) != policy_addr_is_ipv4(a)) {
        return false;
    }
    struct in6_addr mask = ipv6_create_mask(p->plen);
    struct in6_addr net = ipv6_addr_bitand(a, &mask);
    return ipv6_addr_equals(&net, &p->addr);
}

/* Two prefixes overlap exactly when the shorter one contains the other's
 * network address. */
bool
policy_prefix_overlaps(const struct policy_prefix *a,
                       const struct policy_prefix *b)
{
    return (a->plen <= b->plen
            ? policy_prefix_contains(a, &b->addr)
            : policy_prefix_contains(b, &a->addr));
}

void
policy_prefix_format(const struct policy_prefix *p, struct ds *s)
{
    policy_addr_format(&p->addr, s);
    ds_put_format(s, "/%u",
                  policy_addr_is_ipv4(&p->addr) ? p->plen - 96 : p->plen);
}

char *
policy_prefix_to_string(const struct policy_prefix *p)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    policy_prefix_format(p, &s);
    return ds_steal_cstr(&s);
}
