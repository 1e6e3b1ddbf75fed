/* Placement: which host a VM should move to, and the plan of a drain.
 *
 * Pure: the caller describes the VMs and every host as the database shows
 * them; placement picks destinations and explains its view of every
 * candidate, refusals included, in words an operator can act on.  A host
 * qualifies if it is not the VM's own, the VM may run there, it is up and
 * not in maintenance, it is in the footprint asked for (if any), its
 * libvirt, QEMU and vmroam are not older than the VM's host's, and the VM
 * fits: its memory within the host's memory less a headroom and less what
 * the VMs there (and those placed there before it) take, its disks within
 * the free space less the same headroom.  What is not known (a host or VM
 * that reported no size) does not count against it.  Of the qualifying
 * hosts it picks the one with the most memory left, then the most free
 * migration slots, then the fewest VMs, then the first name: so VMs spread
 * over the hosts. */

#ifndef MIGRATOR_PLACEMENT_H
#define MIGRATOR_PLACEMENT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct smap;

struct migr_candidate {
    const char *name;
    const char *down;               /* Why it is down, or NULL if up. */
    bool maintenance;
    const char *footprint;          /* Of its provider subnet, or NULL. */
    const struct smap *versions;
    int64_t memory_kb;              /* Physical memory, 0 if unknown. */
    int64_t used_kb;                /* Memory of the VMs on it. */
    int64_t free_disk_kb;           /* -1 if unknown. */
    int64_t max_migrations;
    int64_t free_slots;             /* Its limit less what runs there. */
    size_t n_vms;
};

enum migr_priority {
    MIGR_PRIORITY_HIGH,
    MIGR_PRIORITY_MEDIUM,
    MIGR_PRIORITY_LOW,
};

struct migr_placement_vm {
    const char *name;
    const char *chassis;            /* Where it runs. */
    const struct smap *versions;    /* Of that host. */
    char **allowed;                 /* Hosts it may run on; none: any. */
    size_t n_allowed;
    int64_t memory_kb;              /* 0 if unknown. */
    int64_t disk_kb;                /* Its local disks, 0 if none known. */
    enum migr_priority priority;
    const char *unmovable;          /* Why it cannot move at all, or NULL. */
};

/* What a placement may use of each host. */
struct migr_placement_rules {
    int headroom_pct;               /* Memory and disk kept free. */
    const char *footprint;          /* Only hosts here, or NULL. */
};

#define MIGR_HEADROOM_DEFAULT 10
#define MIGR_PLACE_NONE SIZE_MAX

size_t migr_place(const struct migr_placement_vm *,
                  const struct migr_candidate *hosts, size_t n,
                  const struct migr_placement_rules *, struct ds *why);

/* One VM of a plan: where it goes and in which wave, or why nowhere. */
struct migr_plan_entry {
    size_t host;                    /* Index in the hosts, or
                                     * MIGR_PLACE_NONE. */
    int wave;                       /* 1 for the first. */
    size_t rank;                    /* Its place in the plan's order:
                                     * priority first, then size. */
    char *why;                      /* Every candidate's line, or why it
                                     * stays (the caller frees it). */
};

void migr_plan(const struct migr_placement_vm *vms, size_t n_vms,
               struct migr_candidate *hosts, size_t n_hosts,
               const struct migr_placement_rules *,
               struct migr_plan_entry *entries);

const char *migr_priority_name(enum migr_priority);
bool migr_priority_parse(const char *, enum migr_priority *);

#endif /* migrator/placement.h */
