/* Leases of customer (CA) and provider (PA) addresses in the vmroam
 * database.
 *
 * A CA lease is allocated and released in transactions of its own, outside
 * the IDL: a
 * virtual subnet may hold millions of leases, so its leases and lookup
 * records are read by key (policy/key.h), a few candidate addresses at a
 * time (ipam/probe.h), and whole only when the pool looks full.  The other
 * functions add their changes to a transaction built from the IDL's
 * current contents (run it under policy_db_transact()).
 *
 * Two clients that pick the same free address cannot both win: a new lease
 * is an insert that its key (a CA lease's UUID) or the (address) index lets
 * only one transaction commit, and reusing a released or expired lease
 * checks its state.  The loser picks another address.
 *
 * Addresses already used by lookup records count as taken, so IPAM never
 * hands out an address the policy gives to a VM. */

#ifndef IPAM_LEASES_H
#define IPAM_LEASES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct policy_db;
struct svec;

/* Which exit status an error deserves. */
enum ipam_error {
    IPAM_OK,
    IPAM_BAD_INPUT,             /* Unknown VSID, address outside, ... */
    IPAM_CONFLICT,              /* Already leased, pool exhausted, ... */
};

struct ipam_request {
    int64_t vsid;               /* CA: its virtual subnet; 0 for a PA. */
    const char *vm;             /* CA holder, optional. */
    const char *mac;            /* CA holder, optional. */
    const char *chassis;        /* PA: the host. */
    const char *footprint;      /* PA: only from this footprint, or NULL. */
    const char *address;        /* A static address, or NULL for any. */
    const char *owner;          /* Reserve for this owner, or NULL. */
    long long int expires;      /* Reservation end, ms since the epoch. */
};

enum ipam_error ipam_allocate_ca(struct policy_db *,
                                 const struct ipam_request *,
                                 long long int now, char **address,
                                 char **errorp);
enum ipam_error ipam_allocate_pa(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                 const struct ipam_request *,
                                 long long int now, char **address,
                                 char **errorp);
enum ipam_error ipam_release_ca(struct policy_db *, int64_t vsid,
                                const char *address, char **errorp);
enum ipam_error ipam_release_pa(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                const char *address, char **errorp);
enum ipam_error ipam_release_host(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                  const char *chassis, char **errorp);
size_t ipam_check(struct ovsdb_idl *, long long int now,
                  struct svec *problems);
/* A host's provider address as IPAM leased it. */
struct ipam_pa {
    const char *address;        /* "10.0.1.11". */
    const char *subnet;         /* Its provider subnet, "10.0.1.0/24". */
    const char *gateway;        /* That subnet's gateway, or NULL. */
};

bool ipam_pa_of(struct ovsdb_idl *, const char *chassis, struct ipam_pa *);
char *ipam_pa_cidr(const struct ipam_pa *);

#endif /* ipam/leases.h */
