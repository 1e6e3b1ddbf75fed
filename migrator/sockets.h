/* Cutting a migration's data connections.
 *
 * When the path to a destination breaks, the TCP connections that carry a
 * migration's memory and disks to it stall rather than fail, for as long
 * as TCP keeps retransmitting.  Aborting the migration then makes QEMU
 * wait for the stalled disk writes to drain, and the guest stops with it.
 * Destroying those connections (netlink SOCK_DESTROY, as "ss -K" does)
 * makes every pending write fail at once, so that the abort is quick and
 * the guest runs on.  Only connections to the destination's address and to
 * ports in the hypervisor's migration port range are cut: libvirt's own
 * connection to its peer stays, and with it the destination's cleanup.
 * Other migrations to the same destination lose theirs too, so this is for
 * a broken path, which dooms them all anyway. */

#ifndef MIGRATOR_SOCKETS_H
#define MIGRATOR_SOCKETS_H 1

#include <stdbool.h>

/* libvirt's default migration_port_min and migration_port_max (qemu.conf),
 * the ports a host receives migrations on, their disks' NBD connections
 * included.  Hosts publish theirs as "MIN-MAX". */
#define MIGR_PORTS_DEFAULT "49152-49215"

bool migr_ports_parse(const char *, int *min, int *max);
char *migr_sockets_cut(const char *address, int port_min, int port_max,
                       int *n_cut);

#endif /* migrator/sockets.h */
