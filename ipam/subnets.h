/* Where addresses come from: footprints, the provider subnets that make
 * them up, and the CA pools of virtual subnets, in the vmroam database.
 *
 * Each function checks its input against the database's current contents
 * and adds its changes to a transaction (run it under
 * policy_db_transact()), or changes nothing and says why.  A provider
 * subnet added or deleted bumps the policy generation, since the agents
 * translate it (the provider subnets a PA may come from). */

#ifndef IPAM_SUBNETS_H
#define IPAM_SUBNETS_H 1

#include <stddef.h>
#include <stdint.h>

#include "ipam/leases.h"

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct sset;

enum ipam_error ipam_footprint_add(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                   const char *name, const char *description,
                                   char **errorp);
void ipam_footprint_names(struct ovsdb_idl *, struct sset *names);

enum ipam_error ipam_subnet_add(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                const char *prefix, const char *footprint,
                                const char *gateway,
                                char *const *reserved, size_t n_reserved,
                                char **errorp);
enum ipam_error ipam_footprint_del(struct ovsdb_idl *,
                                   struct ovsdb_idl_txn *, const char *name,
                                   char **errorp);
enum ipam_error ipam_subnet_del(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                                const char *prefix, char **errorp);
size_t ipam_subnet_pa_leases(struct ovsdb_idl *, const char *prefix);

enum ipam_error ipam_pool_set(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                              int64_t vsid,
                              char *const *ranges, size_t n_ranges,
                              char *const *reserved, size_t n_reserved,
                              char **errorp);

#endif /* ipam/subnets.h */
