/* The hosts and VMs as the database shows them, described for placement
 * (migrator/placement.h): each host's liveness, maintenance, footprint,
 * versions, size and load; each VM's size, priority and allowed hosts. */

#ifndef MIGRATOR_CANDIDATES_H
#define MIGRATOR_CANDIDATES_H 1

#include <stddef.h>

#include "migrator/placement.h"

struct ovsdb_idl;
struct vmroamrec_chassis;
struct vmroamrec_vm;

struct migr_candidates {
    struct migr_candidate *hosts;
    const struct vmroamrec_chassis **rows;  /* The row of each host. */
    char **downs;                           /* Owned 'down' strings. */
    size_t n;
};

void migr_candidates_read(struct ovsdb_idl *, struct migr_candidates *);
void migr_candidates_destroy(struct migr_candidates *);

void migr_placement_vm_read(const struct vmroamrec_vm *,
                            const struct vmroamrec_chassis *host,
                            struct migr_placement_vm *);
const char *migr_footprint_of(struct ovsdb_idl *,
                              const struct vmroamrec_chassis *);

#endif /* migrator/candidates.h */
