/* Shared storage, proven rather than assumed.
 *
 * A VM's disks may be left in place at migration only if the destination
 * sees the very files the source does; otherwise the VM would resume on a
 * different disk than it left.  No option can know that, so the agents
 * prove it: the source writes a fresh random token into a probe file beside
 * each disk and publishes the token and the disk paths; the destination
 * reads the probe files at the same paths and says whether every one holds
 * that token.  Storage counts as shared only then; "auto" copies the disks
 * otherwise, and "shared" is refused, naming the disk not seen.
 *
 * The probe files are effects on the file system; the decision is pure. */

#ifndef MIGRATOR_STORAGE_H
#define MIGRATOR_STORAGE_H 1

#include <stdbool.h>

struct sset;

/* What the operator asked for ("vmroam migrate --storage"). */
enum migr_storage_mode {
    MIGR_STORAGE_AUTO,          /* Leave in place if proven shared, else copy. */
    MIGR_STORAGE_COPY,          /* Always copy. */
    MIGR_STORAGE_SHARED,        /* Leave in place; refuse unless proven. */
};

bool migr_storage_mode_parse(const char *, enum migr_storage_mode *);
const char *migr_storage_mode_name(enum migr_storage_mode);

/* The probe, as published in the Migration row. */
char *migr_storage_probe_encode(const char *token, const struct sset *disks);
char *migr_storage_probe_decode(const char *, char **token,
                                struct sset *disks);

void migr_storage_resolve(struct sset *disks);
char *migr_storage_probe_write(const struct sset *disks, const char *token);
char *migr_storage_probe_check(const struct sset *disks, const char *token);
void migr_storage_probe_remove(const struct sset *disks, const char *token);

/* The destination's verdict on a probe: "yes", or why not. */
#define MIGR_STORAGE_SHARED_YES "yes"

char *migr_storage_decide(enum migr_storage_mode, const char *vm,
                          const char *destination, const char *verdict,
                          bool *copy);

#endif /* migrator/storage.h */
