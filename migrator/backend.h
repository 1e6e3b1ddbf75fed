/* What moves a VM: the interface between the migration executor and the
 * hypervisor.
 *
 * The executor (migrator/executor.c) decides what happens when; a backend
 * does it.  The real backend is libvirt (migrator/libvirt.c); unit tests use
 * a fake.  A backend moves memory (and disks, for shared-nothing
 * migrations) while the VM runs, reports progress, can be aborted, and
 * always leaves the VM running exactly once: on the destination if it
 * succeeded, on the source otherwise.  The data goes where the spec says:
 * into the migration channel's unix sockets, or the hypervisor's own
 * connection to the destination. */

#ifndef MIGRATOR_BACKEND_H
#define MIGRATOR_BACKEND_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sset.h"

struct smap;

struct migr_spec {
    const char *vm;
    const char *destination;        /* Chassis name, for messages. */
    const char *dest_uri;           /* How to reach its hypervisor. */
    const char *dest_address;       /* Its PA: where the data goes. */
    int dest_port_min, dest_port_max;   /* The ports it goes to there. */
    bool copy_storage;              /* Copy the disks too. */
    int max_downtime_ms;            /* Pause target at switchover. */
    int bandwidth_mibps;            /* Cap on the data rate, 0 for none. */
    /* Through the migration channel: where QEMU sends memory and disks
     * ("unix://PATH"), or NULL for the hypervisor's own path to
     * 'dest_address'. */
    const char *memory_uri;
    const char *disks_uri;
    int streams;                    /* Memory connections (multifd), >= 1. */
    /* Quick migration: the VM's state saved beside its (shared) disks and
     * restored on the destination, the guest stopped meanwhile, instead of
     * its memory copied while it runs. */
    bool quick;
    /* QEMU may pause the guest for its switchover only once the network
     * holds its packets (migrator/pause.h). */
    bool pause_when_held;
};

enum migr_job_result {
    MIGR_JOB_RUNNING,
    MIGR_JOB_SUCCEEDED,             /* The VM runs on the destination. */
    MIGR_JOB_FAILED,                /* The VM still runs on the source. */
};

struct migr_status {
    enum migr_job_result result;
    bool copying_storage;           /* Still in the storage phase. */
    uint64_t total;                 /* Bytes, memory + disks. */
    uint64_t processed;
    uint64_t remaining;
    uint64_t dirty_rate;            /* Pages per second. */
    uint64_t iteration;             /* Memory pass. */
    uint64_t downtime_ms;           /* Once succeeded. */
    bool pausing;                   /* The guest's last pause is near: hold
                                     * its packets, then say so
                                     * (class->held()). */
    bool resumed_on_destination;    /* The VM runs there already, even if
                                     * the job has not ended yet. */
    bool destination_lost;          /* Failed since the destination's
                                     * hypervisor went away: the cause, over
                                     * what that did to the data streams. */
    char *error;                    /* Once failed; caller frees. */
};

/* What placement needs to know of a host and of the VMs on it. */
struct migr_host_size {
    int64_t memory_kb;              /* Physical memory. */
    int64_t free_memory_kb;
    int64_t cpus;
};

struct migr_vm_size {
    char *name;
    int64_t memory_kb;              /* Its maximum memory. */
    int64_t vcpus;
    int64_t disk_kb;                /* What its local disks can grow to:
                                     * what a copy needs at the other end. */
    struct sset disks;              /* Their paths. */
};

void migr_vm_sizes_free(struct migr_vm_size *, size_t n);

struct migr_job;

enum migr_recovery {
    MIGR_RECOVERY_HERE,             /* The VM runs on this host. */
    MIGR_RECOVERY_GONE,             /* It does not (it moved). */
    MIGR_RECOVERY_PENDING,          /* Its job is ending: ask again. */
};

struct migr_backend_class {
    const char *name;
    struct migr_job *(*start)(void *backend, const struct migr_spec *,
                              char **errorp);
    void (*poll)(struct migr_job *, struct migr_status *);
    /* Called on every pass of the agent's main loop, even while the
     * database is not answering: what a job needs done at once. */
    void (*run)(struct migr_job *);
    /* 'path_broken': the way to the destination is down, so the data
     * connections are cut rather than left to stall the abort. */
    void (*abort)(struct migr_job *, bool path_broken);
    /* The network holds the packets of a job that is 'pausing': it may
     * let the guest pause now.  May be NULL. */
    void (*held)(struct migr_job *);
    void (*wait)(struct migr_job *);
    void (*destroy)(struct migr_job *);
    /* Ends a migration job of 'vm' left by an earlier agent, rolling it
     * back if it still can be, without waiting for it: called again until
     * it says where the VM runs. */
    enum migr_recovery (*recover)(void *backend, const char *vm);
    /* Adds the paths of 'vm''s disks that are files or devices on this
     * host to 'paths' (network disks are shared by nature); returns an
     * error or NULL.  May block on the hypervisor, briefly. */
    char *(*disks)(void *backend, const char *vm, struct sset *paths);
    /* The user and group the hypervisor runs 'vm''s QEMU as or, with 'vm'
     * NULL, the QEMU it starts next (an incoming migration's): whom the
     * migration channel gives its sockets.  Returns an error or NULL.  May
     * be NULL: QEMU runs as the agent does. */
    char *(*guest_user)(void *backend, const char *vm, uid_t *, gid_t *);
    /* Adds the names of the VMs running on this host to 'running'; returns
     * an error (and adds nothing) if the hypervisor cannot say. */
    char *(*list_running)(void *backend, struct sset *running);
    void (*versions)(void *backend, struct smap *);
    /* Describes this host and each VM running on it ('*vms', '*n_vms'; the
     * caller frees them with migr_vm_sizes_free()).  May be NULL. */
    char *(*sizes)(void *backend, struct migr_host_size *,
                   struct migr_vm_size **vms, size_t *n_vms);
    /* Fills 'paused' with the VMs a migration has paused on this host for
     * its switchover (the guest's last pause on its source) that have not
     * resumed, and 'resumed' with those a migration resumed here since the
     * last call, as the hypervisor's lifecycle events say.  May be NULL:
     * the executor then holds nothing and moves the records on the
     * announcement, or when its poll sees the VM run on the destination. */
    void (*lifecycle)(void *backend, struct sset *paused,
                      struct sset *resumed);
    void (*lifecycle_wait)(void *backend);
};

struct migr_backend {
    const struct migr_backend_class *class;
    void *data;
};

#endif /* migrator/backend.h */
