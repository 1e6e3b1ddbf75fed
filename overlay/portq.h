/* The queue of a VM's port while the VM is on its way here.
 *
 * During the last pause of a migration, the destination's port holds the
 * VM's packets (overlay_pipeline_hold() sends them there): the kernel
 * queues what the switch sends to a tap until QEMU reads it, and QEMU
 * reads nothing before the VM runs.  Once it runs, QEMU delivers the queue
 * in order.  A tap's queue holds 500 packets by default, half a second at
 * 1000 packets/s; overlay_portq_deepen() makes it hold OVERLAY_PORTQ_LEN,
 * a few seconds of a busy VM's traffic and some megabytes of memory at
 * most, and what it had to drop beyond that the kernel counts, which
 * overlay_portq_dropped() reads. */

#ifndef OVERLAY_PORTQ_H
#define OVERLAY_PORTQ_H 1

#include <stdint.h>

#include "openvswitch/compiler.h"

#define OVERLAY_PORTQ_LEN 8192

char *overlay_portq_deepen(const char *ifname) OVS_WARN_UNUSED_RESULT;
char *overlay_portq_dropped(const char *ifname, uint64_t *dropped)
    OVS_WARN_UNUSED_RESULT;

#endif /* overlay/portq.h */
