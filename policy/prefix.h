/* IP addresses and prefixes of either family, in one representation.
 *
 * IPv4 addresses are kept as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) and
 * IPv4 prefix lengths are offset by 96, so that containment, overlap and
 * ordering work the same for both families and an IPv4 address can never
 * fall inside an IPv6 prefix by accident.  Parsers return NULL on success or
 * a malloc'd message naming the text and what is wrong with it. */

#ifndef POLICY_PREFIX_H
#define POLICY_PREFIX_H 1

#include <stdbool.h>
#include <netinet/in.h>

#include "openvswitch/compiler.h"

struct ds;

struct policy_prefix {
    struct in6_addr addr;       /* Network address, host bits zero. */
    unsigned int plen;          /* 0..128; IPv4 prefixes are 96..128. */
};

char *policy_addr_parse(const char *, struct in6_addr *)
    OVS_WARN_UNUSED_RESULT;
char *policy_prefix_parse(const char *, struct policy_prefix *)
    OVS_WARN_UNUSED_RESULT;

bool policy_addr_is_ipv4(const struct in6_addr *);
int policy_addr_cmp(const struct in6_addr *, const struct in6_addr *);
void policy_addr_format(const struct in6_addr *, struct ds *);
char *policy_addr_to_string(const struct in6_addr *);

int policy_prefix_cmp(const struct policy_prefix *,
                      const struct policy_prefix *);
bool policy_prefix_contains(const struct policy_prefix *,
                            const struct in6_addr *);
bool policy_prefix_overlaps(const struct policy_prefix *,
                            const struct policy_prefix *);
void policy_prefix_format(const struct policy_prefix *, struct ds *);
char *policy_prefix_to_string(const struct policy_prefix *);

#endif /* policy/prefix.h */
