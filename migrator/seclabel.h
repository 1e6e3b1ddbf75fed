/* Which user and group QEMU runs as, from what libvirt says.
 *
 * libvirt's DAC security driver runs each QEMU as a user and group: the
 * "label" of the domain (<seclabel model='dac'><label>+UID:+GID</label>,
 * in a running domain's XML), or, for a domain it has yet to start (an
 * incoming migration), the host's "baselabel" in its capabilities
 * (<secmodel><model>dac</model><baselabel>, from qemu.conf's user and
 * group).  The migration channel gives that user the sockets QEMU must
 * create or connect to.  Pure: XML text in, numbers out. */

#ifndef MIGRATOR_SECLABEL_H
#define MIGRATOR_SECLABEL_H 1

#include <sys/types.h>

#include "openvswitch/compiler.h"

char *migr_seclabel_of_domain(const char *domain_xml);
char *migr_seclabel_of_host(const char *capabilities_xml);
char *migr_seclabel_parse(const char *label, uid_t *, gid_t *)
    OVS_WARN_UNUSED_RESULT;

#endif /* migrator/seclabel.h */
