/* The host side of IPAM, through libnl-3: the links, addresses and routes
 * of this host, its provider address on the underlay device, and the state
 * of the underlay link.
 *
 * A libnl cache manager keeps the link, address and route caches current
 * from kernel notifications, so a link going down is seen as soon as the
 * kernel says so; ipam_host_run() processes them and ipam_host_wait() wakes
 * the poll loop for them.  No "ip" processes are run. */

#ifndef IPAM_HOST_H
#define IPAM_HOST_H 1

#include <stdbool.h>

#include "openvswitch/compiler.h"

struct ds;
struct ipam_host;
struct sset;

/* 'underlay_dev' holds the PA; 'uplink' is the device whose carrier is the
 * underlay link (the physical port; may be the same device). */
struct ipam_host *ipam_host_create(const char *underlay_dev,
                                   const char *uplink, char **errorp);
void ipam_host_destroy(struct ipam_host *);

void ipam_host_run(struct ipam_host *);
void ipam_host_wait(struct ipam_host *);

const char *ipam_host_link_state(const struct ipam_host *);
unsigned int ipam_host_link_seqno(const struct ipam_host *);
unsigned int ipam_host_change_seqno(const struct ipam_host *);

char *ipam_host_set_pa(struct ipam_host *, const char *pa_cidr,
                       const char *gateway) OVS_WARN_UNUSED_RESULT;
char *ipam_host_clear_pa(struct ipam_host *) OVS_WARN_UNUSED_RESULT;
bool ipam_host_pa_present(const struct ipam_host *);
void ipam_host_addresses(const struct ipam_host *, struct sset *);

void ipam_host_describe(const struct ipam_host *, struct ds *);

#endif /* ipam/host.h */
