/* The routes of the switch's own routing table (ovs-vswitchd's
 * "ovs/route/..." commands) that a host's tunnels need.
 *
 * A userspace datapath sends into a GRE tunnel along that table, and ends
 * a tunnel only on an address of a device that a route of that table goes
 * out of.  By default ovs-vswitchd fills it from the kernel's routes and
 * drops and reloads all of it on any change of any link of the host (a
 * VM's tap made, deleted or given new offloads by QEMU as the VM resumes):
 * for those milliseconds, tunnel packets are neither sent nor ended, and
 * flows computed then keep dropping them until the switch revalidates.  A
 * switch run with --disable-system-route keeps only the routes it is
 * given, which nothing drops: vmroamd gives it the two its tunnels need,
 * the provider subnet on the underlay device and the default route via
 * the subnet's gateway.
 *
 * This module is the pure part: the routes a PA lease calls for, the parse
 * of "ovs/route/show", and what turns one set into the other.
 * overlay/routectl.h applies it. */

#ifndef OVERLAY_ROUTES_H
#define OVERLAY_ROUTES_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/compiler.h"

struct overlay_route {
    char *prefix;               /* "10.0.2.0/24", "0.0.0.0/0". */
    char *dev;                  /* "br-phy". */
    char *gw;                   /* Next hop, or NULL when on-link. */
};

struct overlay_routes {
    struct overlay_route *routes;
    size_t n;
    bool system;                /* The table also holds the kernel's routes. */
};

void overlay_routes_init(struct overlay_routes *);
void overlay_routes_destroy(struct overlay_routes *);

char *overlay_routes_for_pa(const char *pa_cidr, const char *gateway,
                            const char *dev, struct overlay_routes *)
    OVS_WARN_UNUSED_RESULT;
void overlay_routes_parse(const char *show, struct overlay_routes *);
void overlay_routes_plan(const struct overlay_routes *installed,
                         const struct overlay_routes *desired,
                         const char *dev, struct overlay_routes *del,
                         struct overlay_routes *add);

#endif /* overlay/routes.h */
