/* The provider address a host uses, kept in force on its underlay device.
 *
 * A static PA (vmroamd --pa) is used as it is.  Otherwise the host's
 * active PA lease is its PA: it goes onto the underlay device, with the
 * default route via its provider subnet's gateway, whenever the lease
 * changes or the address went missing, and comes off when the lease
 * goes. */

#ifndef IPAM_UNDERLAY_H
#define IPAM_UNDERLAY_H 1

struct ipam_host;
struct ovsdb_idl;

struct ipam_underlay *ipam_underlay_create(struct ipam_host *,
                                           const char *underlay_dev,
                                           const char *static_pa);
void ipam_underlay_destroy(struct ipam_underlay *);
void ipam_underlay_run(struct ipam_underlay *, struct ovsdb_idl *,
                       const char *chassis);

const char *ipam_underlay_pa(const struct ipam_underlay *);
const char *ipam_underlay_subnet(const struct ipam_underlay *);
const char *ipam_underlay_programmed(const struct ipam_underlay *);
const char *ipam_underlay_gateway(const struct ipam_underlay *);

#endif /* ipam/underlay.h */
