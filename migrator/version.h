/* The cross-version rule: a VM may move to a host whose libvirt, QEMU and
 * vmroam are the same as or newer than its current host's, never older
 * (an older QEMU may not load the newer one's migration stream). */

#ifndef MIGRATOR_VERSION_H
#define MIGRATOR_VERSION_H 1

#include "openvswitch/compiler.h"

struct smap;

int migr_version_cmp(const char *a, const char *b);
char *migr_check_versions(const char *source, const struct smap *src,
                          const char *destination, const struct smap *dst)
    OVS_WARN_UNUSED_RESULT;

#endif /* migrator/version.h */
