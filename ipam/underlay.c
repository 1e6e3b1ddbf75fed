#include <config.h>

#include "ipam/underlay.h"

#include <stdlib.h>

#include "ipam/host.h"
#include "ipam/leases.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ipam_underlay);

struct ipam_underlay {
    struct ipam_host *host;
    char *underlay_dev;
    char *static_pa;            /* Or NULL to take the lease's. */
    char *pa;                   /* The PA in use now, or NULL. */
    char *subnet;               /* Its provider subnet, or NULL. */
    char *programmed;           /* ADDRESS/LEN put on the device. */
    char *gateway;              /* The default route put with it, or NULL. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

struct ipam_underlay *
ipam_underlay_create(struct ipam_host *host, const char *underlay_dev,
                     const char *static_pa)
{
    struct ipam_underlay *u = xzalloc(sizeof *u);
    u->host = host;
    u->underlay_dev = xstrdup(underlay_dev);
    u->static_pa = nullable_xstrdup(static_pa);
    u->pa = nullable_xstrdup(static_pa);
    return u;
}

void
ipam_underlay_destroy(struct ipam_underlay *u)
{
    if (u) {
        free(u->underlay_dev);
        free(u->static_pa);
        free(u->pa);
        free(u->subnet);
        free(u->programmed);
        free(u->gateway);
        free(u);
    }
}

static void
set_string(char **dst, const char *src)
{
    if (!nullable_string_is_equal(*dst, src)) {
        free(*dst);
        *dst = nullable_xstrdup(src);
    }
}

/* The lease went: so does its address. */
static void
clear(struct ipam_underlay *u)
{
    set_string(&u->pa, NULL);
    set_string(&u->subnet, NULL);
    if (u->programmed) {
        char *error = ipam_host_clear_pa(u->host);
        if (error) {
            VLOG_WARN_RL(&rl, "%s", error);
            free(error);
        }
        set_string(&u->programmed, NULL);
        set_string(&u->gateway, NULL);
    }
}

/* Puts 'lease' on the underlay device unless it is there already. */
static void
program(struct ipam_underlay *u, const struct ipam_pa *lease)
{
    char *cidr = ipam_pa_cidr(lease);
    if (!nullable_string_is_equal(cidr, u->programmed)
        || !ipam_host_pa_present(u->host)) {
        char *error = ipam_host_set_pa(u->host, cidr, lease->gateway);
        if (error) {
            VLOG_WARN_RL(&rl, "cannot put PA %s on %s: %s", cidr,
                         u->underlay_dev, error);
            free(error);
        } else {
            set_string(&u->programmed, cidr);
            set_string(&u->gateway, lease->gateway);
        }
    }
    free(cidr);
}

/* Keeps the PA of 'chassis' in force, as its lease in 'idl' says. */
void
ipam_underlay_run(struct ipam_underlay *u, struct ovsdb_idl *idl,
                  const char *chassis)
{
    struct ipam_pa lease;
    if (u->static_pa) {
        return;
    }
    if (!ipam_pa_of(idl, chassis, &lease)) {
        clear(u);
        return;
    }
    set_string(&u->pa, lease.address);
    set_string(&u->subnet, lease.subnet);
    program(u, &lease);
}

/* The PA in use now, or NULL. */
const char *
ipam_underlay_pa(const struct ipam_underlay *u)
{
    return u->pa;
}

/* The leased PA as put on the underlay device ("ADDRESS/LENGTH") and the
 * gateway of the default route put with it (or NULL): NULL for a static
 * PA, which vmroamd leaves to the host's configuration. */
const char *
ipam_underlay_programmed(const struct ipam_underlay *u)
{
    return u->programmed;
}

const char *
ipam_underlay_gateway(const struct ipam_underlay *u)
{
    return u->programmed ? u->gateway : NULL;
}

/* The provider subnet of the PA in use, or NULL (also for a static PA). */
const char *
ipam_underlay_subnet(const struct ipam_underlay *u)
{
    return u->subnet;
}
