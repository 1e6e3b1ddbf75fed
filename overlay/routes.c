#include <config.h>

#include "overlay/routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

void
overlay_routes_init(struct overlay_routes *rs)
{
    memset(rs, 0, sizeof *rs);
}

void
overlay_routes_destroy(struct overlay_routes *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->routes[i].prefix);
        free(rs->routes[i].dev);
        free(rs->routes[i].gw);
    }
    free(rs->routes);
    overlay_routes_init(rs);
}

static void
routes_add(struct overlay_routes *rs, const char *prefix, const char *dev,
           const char *gw)
{
    rs->routes = xrealloc(rs->routes, (rs->n + 1) * sizeof *rs->routes);
    rs->routes[rs->n++] = (struct overlay_route) {
        .prefix = xstrdup(prefix),
        .dev = xstrdup(dev),
        .gw = nullable_xstrdup(gw),
    };
}

static bool
route_equals(const struct overlay_route *a, const struct overlay_route *b)
{
    return !strcmp(a->prefix, b->prefix) && !strcmp(a->dev, b->dev)
           && nullable_string_is_equal(a->gw, b->gw);
}

static bool
routes_contain(const struct overlay_routes *rs, const struct overlay_route *r)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (route_equals(&rs->routes[i], r)) {
            return true;
        }
    }
    return false;
}

/* Stores in 'prefix' the network that 'addr' (AF_INET or AF_INET6, 'len'
 * bytes) is in, with 'plen' bits of prefix. */
static void
format_network(int af, unsigned char *addr, size_t len, unsigned int plen,
               struct ds *prefix)
{
    for (size_t i = 0; i < len; i++) {
        unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;
        addr[i] &= bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    }
    char buf[INET6_ADDRSTRLEN];
    ds_put_format(prefix, "%s/%u", inet_ntop(af, addr, buf, sizeof buf),
                  plen);
}

/* Sets 'rs' to the routes a host whose PA is 'pa_cidr' ("ADDRESS/LENGTH")
 * on 'dev' needs: its provider subnet, on-link, and the default route via
 * 'gateway' (none if NULL).  Returns an error message if 'pa_cidr' or
 * 'gateway' is not an address of the same family. */
char *
overlay_routes_for_pa(const char *pa_cidr, const char *gateway,
                      const char *dev, struct overlay_routes *rs)
{
    overlay_routes_init(rs);

    const char *slash = strchr(pa_cidr, '/');
    char *addr_s = xmemdup0(pa_cidr, slash ? slash - pa_cidr : strlen(pa_cidr));
    unsigned char addr[16];
    int af = strchr(addr_s, ':') ? AF_INET6 : AF_INET;
    size_t len = af == AF_INET ? 4 : 16;
    unsigned int plen;
    int n = 0;
    char *error = NULL;

    if (inet_pton(af, addr_s, addr) != 1) {
        error = xasprintf("PA %s: %s is not an address", pa_cidr, addr_s);
    } else if (!slash || sscanf(slash + 1, "%u%n", &plen, &n) != 1
               || slash[1 + n] || plen > 8 * len) {
        error = xasprintf("PA %s: no prefix length of 0 to %"PRIuSIZE,
                          pa_cidr, 8 * len);
    } else if (gateway && inet_pton(af, gateway, (unsigned char [16]) {0})
                          != 1) {
        error = xasprintf("gateway %s is not an IPv%d address", gateway,
                          af == AF_INET ? 4 : 6);
    } else {
        struct ds prefix = DS_EMPTY_INITIALIZER;
        format_network(af, addr, len, plen, &prefix);
        routes_add(rs, ds_cstr(&prefix), dev, NULL);
        if (gateway) {
            routes_add(rs, af == AF_INET ? "0.0.0.0/0" : "::/0", dev,
                       gateway);
        }
        ds_destroy(&prefix);
    }
    free(addr_s);
    return error;
}

/* Parses one "User: PREFIX [MARK M] dev DEV [GW GW] SRC SRC" line of
 * "ovs/route/show" into 'rs'.  A marked route is not one vmroamd makes. */
static void
parse_user_route(char *line, struct overlay_routes *rs)
{
    char *save = NULL;
    char *prefix = strtok_r(line, " ", &save);
    const char *dev = NULL, *gw = NULL;
    bool marked = false;

    for (char *key = strtok_r(NULL, " ", &save); key;
         key = strtok_r(NULL, " ", &save)) {
        char *value = strtok_r(NULL, " ", &save);
        if (!value) {
            break;
        } else if (!strcmp(key, "dev")) {
            dev = value;
        } else if (!strcmp(key, "GW")) {
            gw = value;
        } else if (!strcmp(key, "MARK")) {
            marked = true;
        }
    }
    if (prefix && dev && !marked) {
        routes_add(rs, prefix, dev, gw);
    }
}

/* Sets 'rs' to the routes the switch was given, as "ovs/route/show" lists
 * them in 'show', and whether it also holds the kernel's ("Cached"). */
void
overlay_routes_parse(const char *show, struct overlay_routes *rs)
{
    overlay_routes_init(rs);

    char *copy = xstrdup(show);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "User: ", 6)) {
            parse_user_route(line + 6, rs);
        } else if (!strncmp(line, "Cached: ", 8)) {
            rs->system = true;
        }
    }
    free(copy);
}

/* Sets 'del' to the routes out of 'dev' in 'installed' that 'desired' does
 * not hold, and 'add' to the routes of 'desired' to add after those are
 * deleted.  Deleting a route also makes the switch forget that its device
 * ends tunnels, until a route out of it is added again: so after a
 * deletion, every desired route is added again. */
void
overlay_routes_plan(const struct overlay_routes *installed,
                    const struct overlay_routes *desired, const char *dev,
                    struct overlay_routes *del, struct overlay_routes *add)
{
    overlay_routes_init(del);
    overlay_routes_init(add);
    for (size_t i = 0; i < installed->n; i++) {
        const struct overlay_route *r = &installed->routes[i];
        if (!strcmp(r->dev, dev) && !routes_contain(desired, r)) {
            routes_add(del, r->prefix, r->dev, r->gw);
        }
    }
    for (size_t i = 0; i < desired->n; i++) {
        const struct overlay_route *r = &desired->routes[i];
        if (del->n || !routes_contain(installed, r)) {
            routes_add(add, r->prefix, r->dev, r->gw);
        }
    }
}
