#include <config.h>

#include "policy/key.h"

#include <inttypes.h>
#include <string.h>

#include "openvswitch/util.h"
#include "policy/prefix.h"
#include "sha1.h"
#include "util.h"
#include "uuid.h"

/* The version 5 UUID of 'name' in the vmroam namespace. */
static void
name_uuid(const char *name, struct uuid *uuid)
{
    struct uuid ns;
    bool ok = uuid_from_string(&ns, POLICY_KEY_NAMESPACE);
    ovs_assert(ok);

    /* The namespace in network byte order, as RFC 4122 hashes it. */
    uint8_t ns_bytes[16];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            ns_bytes[i * 4 + j] = ns.parts[i] >> (24 - 8 * j);
        }
    }

    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, ns_bytes, sizeof ns_bytes);
    sha1_update(&ctx, name, strlen(name));
    sha1_final(&ctx, digest);
    digest[6] = (digest[6] & 0x0f) | 0x50;
    digest[8] = (digest[8] & 0x3f) | 0x80;
    for (int i = 0; i < 4; i++) {
        uuid->parts[i] = ((uint32_t) digest[i * 4] << 24
                          | (uint32_t) digest[i * 4 + 1] << 16
                          | (uint32_t) digest[i * 4 + 2] << 8
                          | digest[i * 4 + 3]);
    }
}

static void
key_uuid(const char *table, int64_t vsid, const struct in6_addr *address,
         struct uuid *uuid)
{
    char *text = policy_addr_to_string(address);
    char *name = xasprintf("%s %"PRId64" %s", table, vsid, text);
    name_uuid(name, uuid);
    free(name);
    free(text);
}

void
policy_key_record(int64_t vsid, const struct in6_addr *ca, struct uuid *uuid)
{
    key_uuid("Lookup_Record", vsid, ca, uuid);
}

void
policy_key_ca_lease(int64_t vsid, const struct in6_addr *address,
                    struct uuid *uuid)
{
    key_uuid("CA_Lease", vsid, address, uuid);
}
