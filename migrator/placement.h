/* Placement: which host a VM should move to.
 *
 * Pure: the caller describes the VM and every host as the database shows
 * them; placement picks the destination and explains its view of every
 * candidate, refusals included, in words an operator can act on.  A host
 * qualifies if it is not the VM's own, the VM may run there, it is up, and
 * its libvirt, QEMU and vmroam are not older than the VM's host's.  Of
 * those it picks the one with the most free migration slots, then the
 * fewest VMs, then the first name. */

#ifndef MIGRATOR_PLACEMENT_H
#define MIGRATOR_PLACEMENT_H 1

#include <stddef.h>
#include <stdint.h>

struct ds;
struct smap;

struct migr_candidate {
    const char *name;
    const char *down;               /* Why it is down, or NULL if up. */
    const struct smap *versions;
    int64_t free_slots;             /* Its limit less what runs there. */
    size_t n_vms;
};

struct migr_placement_vm {
    const char *name;
    const char *chassis;            /* Where it runs. */
    const struct smap *versions;    /* Of that host. */
    char **allowed;                 /* Hosts it may run on; none: any. */
    size_t n_allowed;
};

#define MIGR_PLACE_NONE SIZE_MAX

size_t migr_place(const struct migr_placement_vm *,
                  const struct migr_candidate *hosts, size_t n,
                  struct ds *why);

#endif /* migrator/placement.h */
