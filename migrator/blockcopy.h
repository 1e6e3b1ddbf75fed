/* Moving a running VM's disks to another directory of its own host, while
 * it runs: libvirt's block copy of every disk the plan names
 * (migrator/moveplan.h), then a pivot of each onto its copy.
 *
 * What it promises.  The VM never stops, pauses or reboots.  It never
 * overwrites a file: a destination file that exists already refuses the
 * move before anything starts.  Any failure before the pivots (the
 * directory missing or not writable, too little space in it, a copy job
 * that fails or is aborted by someone else, the caller's stop flag) aborts
 * every copy without pivot, so the VM goes on on its old disks, and removes
 * the files the copies made.  After the pivots the domain's running and
 * persistent definitions both name the new files; the old files stay where
 * they were.  The pivots are one libvirt call per disk, so should one fail
 * after another succeeded, the outcome says which disks moved.
 *
 * libvirt 9.0 copies a persistent domain's disk only as a "transient job"
 * (VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB: not resumed should libvirtd restart
 * meanwhile), and still writes the new file into the persistent definition
 * at the pivot.  The destination directory is checked, and partial copies
 * removed, through a transient libvirt storage pool on it (or the pool
 * that has it already), so all of this works on a remote host and inside
 * the mount namespace of its libvirtd. */

#ifndef MIGRATOR_BLOCKCOPY_H
#define MIGRATOR_BLOCKCOPY_H 1

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "migrator/moveplan.h"

struct migr_blockcopy_progress {
    uint64_t done, total;       /* Bytes, all disks, as the copy jobs count
                                 * them: each disk's virtual size, plus what
                                 * the guest rewrites meanwhile. */
    size_t n_ready, n_disks;    /* Disks whose copy has caught up. */
    long long int msec;         /* Since the copies started. */
};

struct migr_blockcopy_request {
    const char *uri;            /* libvirt of the VM's host. */
    const char *host;           /* The host's name, for messages. */
    const char *vm;
    const char *dir;            /* Where the disks go, absolute. */
    uint64_t bandwidth;         /* Bytes per second per disk, 0 for no cap. */
    const volatile sig_atomic_t *stop;  /* Nonzero: stop and roll back. */
    void (*progress)(const struct migr_blockcopy_progress *, void *aux);
    void *aux;
};

enum migr_blockcopy_result {
    MIGR_BLOCKCOPY_MOVED,       /* Every disk of the plan runs on its copy. */
    MIGR_BLOCKCOPY_REFUSED,     /* Nothing started: the request is wrong
                                 * (not running, nothing to move, a file
                                 * exists already). */
    MIGR_BLOCKCOPY_FAILED,      /* See 'n_pivoted'. */
};

struct migr_blockcopy_outcome {
    struct migr_moveplan plan;
    size_t n_pivoted;           /* The first n_pivoted disks of 'plan' run on
                                 * their copies (all of them once moved, 0
                                 * after a failure before the pivots). */
    uint64_t copied;            /* Bytes the copy jobs counted. */
    uint64_t allocated;         /* Bytes the disks take on the host. */
    uint64_t capacity;          /* Their virtual size, in bytes. */
    uint64_t available;         /* Free in the directory before the copies. */
    long long int msec;         /* From the first copy to the last pivot. */
    bool rolled_back;           /* Copies were started, then aborted and
                                 * their files removed. */
    char *error;                /* Why not moved. */
    char *cleanup_error;        /* What the rollback could not undo, or
                                 * NULL. */
};

enum migr_blockcopy_result migr_blockcopy_move(
    const struct migr_blockcopy_request *, struct migr_blockcopy_outcome *);
void migr_blockcopy_outcome_destroy(struct migr_blockcopy_outcome *);

#endif /* migrator/blockcopy.h */
