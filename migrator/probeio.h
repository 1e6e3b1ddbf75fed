/* Storage probes off the agent's main loop.
 *
 * The probe files of migrator/storage.h lie beside a VM's disks, on
 * storage that may be a network file system, and a read or write there can
 * block for as long as its server is gone.  So each probe's file I/O runs
 * in a thread of its own, and the agent asks, pass after pass, whether it
 * has finished: meanwhile it goes on answering, translating flows and
 * beating its heart.  A probe that has not finished in time counts as
 * failed (the migration then copies the disks, or is refused if it wanted
 * them shared); its thread stays until the file system answers, and then
 * cleans up after itself. */

#ifndef MIGRATOR_PROBEIO_H
#define MIGRATOR_PROBEIO_H 1

#include <stdbool.h>

struct sset;
struct migr_probe_io;

/* What a probe does, with migrator/storage.h's functions. */
enum migr_probe_op {
    MIGR_PROBE_WRITE,           /* The source: resolves the disks' paths and
                                 * writes the token beside each. */
    MIGR_PROBE_CHECK,           /* The destination: is the token there? */
};

struct migr_probe_io *migr_probe_io_create(int timeout_ms);
void migr_probe_io_destroy(struct migr_probe_io *);

void migr_probe_io_start(struct migr_probe_io *, enum migr_probe_op,
                         const char *id, const struct sset *disks,
                         const char *token);
bool migr_probe_io_poll(struct migr_probe_io *, enum migr_probe_op,
                        const char *id, struct sset *resolved,
                        char **result);
void migr_probe_io_forget(struct migr_probe_io *, enum migr_probe_op,
                          const char *id);
unsigned int migr_probe_io_n_running(const struct migr_probe_io *);
unsigned int migr_probe_io_n_pending(const struct migr_probe_io *);
void migr_probe_io_wait(struct migr_probe_io *);

#endif /* migrator/probeio.h */
