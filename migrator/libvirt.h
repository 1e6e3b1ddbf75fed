/* The libvirt migration backend: peer-to-peer live migration with
 * virDomainMigrateToURI3 (persistent on the destination, undefined on the
 * source, auto-converge; NON_SHARED_DISK for shared-nothing), progress from
 * virDomainGetJobStats, cancel with virDomainAbortJob.  The blocking
 * migrate call runs in a thread of its own; the poll loop learns of its end
 * through a latch. */

#ifndef MIGRATOR_LIBVIRT_H
#define MIGRATOR_LIBVIRT_H 1

#include "migrator/backend.h"

struct migr_backend *migr_libvirt_open(const char *uri, char **errorp);
void migr_libvirt_close(struct migr_backend *);

#endif /* migrator/libvirt.h */
