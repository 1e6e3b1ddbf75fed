/* Keyed rows: the UUID of a lookup record or of a CA lease is a function of
 * its key, (VSID, address).
 *
 * ovsdb-server indexes rows by UUID only: any other lookup scans the table,
 * and a monitor condition copies the whole table first.  With keyed rows a
 * client asks "is this address taken?" in one select by UUID, whatever the
 * size of the table, and two clients inserting the same key collide on the
 * UUID.  The UUID is a name-based one (RFC 4122 version 5, SHA-1) of
 * "TABLE VSID ADDRESS" in vmroam's namespace, so any client can compute it:
 * in Python, uuid.uuid5(uuid.UUID(POLICY_KEY_NAMESPACE), "CA_Lease 5001
 * 10.0.0.7"), with the address in canonical form (as
 * policy_addr_to_string() writes it). */

#ifndef POLICY_KEY_H
#define POLICY_KEY_H 1

#include <stdint.h>

struct in6_addr;
struct uuid;

#define POLICY_KEY_NAMESPACE "aedadcd0-6fa6-433c-b456-4d1ca2637b9d"

void policy_key_record(int64_t vsid, const struct in6_addr *ca,
                       struct uuid *);
void policy_key_ca_lease(int64_t vsid, const struct in6_addr *,
                         struct uuid *);

#endif /* policy/key.h */
