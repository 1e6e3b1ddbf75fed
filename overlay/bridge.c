#include <config.h>

#include "overlay/bridge.h"

#include <string.h>

#include "openvswitch/shash.h"
#include "overlay/pipeline.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "util.h"
#include "vswitch-idl.h"

void
overlay_bridge_register_columns(struct ovsdb_idl *idl)
{
    /* Interfaces carry statistics that change all the time; vmroamd needs
     * none of them. */
    ovsdb_idl_omit(idl, &ovsrec_interface_col_statistics);
}

static const struct ovsrec_bridge *
find_bridge(struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_port *
find_port(const struct ovsrec_bridge *br, const char *name)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, name)) {
            return br->ports[i];
        }
    }
    return NULL;
}

static const struct ovsrec_port *
insert_port(struct ovsdb_idl_txn *txn, const char *name, const char *type)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, type);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    return port;
}

static const struct ovsrec_bridge *
create_bridge(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
              const struct overlay_bridge_cfg *cfg)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
    if (!ovs) {
        return NULL;
    }
    struct ovsrec_bridge *br = ovsrec_bridge_insert(txn);
    const struct ovsrec_port *local = insert_port(txn, cfg->bridge,
                                                  "internal");
    ovsrec_bridge_set_name(br, cfg->bridge);
    ovsrec_bridge_set_ports(br, (struct ovsrec_port **) &local, 1);
    ovsrec_open_vswitch_update_bridges_addvalue(ovs, br);
    return br;
}

static bool
gre_options_ok(const struct ovsrec_interface *iface,
               const struct overlay_bridge_cfg *cfg)
{
    const struct smap *o = &iface->options;
    return (!strcmp(iface->type, "gre")
            && smap_get(o, "remote_ip") && !strcmp(smap_get(o, "remote_ip"),
                                                   "flow")
            && smap_get(o, "key") && !strcmp(smap_get(o, "key"), "flow")
            && nullable_string_is_equal(smap_get(o, "local_ip"),
                                        cfg->local_ip));
}

static void
set_gre_options(const struct ovsrec_interface *iface,
                const struct overlay_bridge_cfg *cfg)
{
    struct smap options = SMAP_INITIALIZER(&options);
    smap_add(&options, "remote_ip", "flow");
    smap_add(&options, "key", "flow");
    if (cfg->local_ip) {
        smap_add(&options, "local_ip", cfg->local_ip);
    }
    ovsrec_interface_set_type(iface, "gre");
    ovsrec_interface_set_options(iface, &options);
    smap_destroy(&options);
}

/* Adds to 'txn' whatever br-int and its GRE port lack.  Returns true if it
 * changed anything. */
bool
overlay_bridge_ensure(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                      const struct overlay_bridge_cfg *cfg)
{
    static const char *protocols[] = {
        "OpenFlow10", "OpenFlow13", "OpenFlow14", "OpenFlow15"
    };
    bool changed = false;

    const struct ovsrec_bridge *br = find_bridge(idl, cfg->bridge);
    if (!br) {
        br = create_bridge(idl, txn, cfg);
        if (!br) {
            return false;
        }
        changed = true;
    }
    if (!br->datapath_type || strcmp(br->datapath_type, cfg->datapath_type)) {
        ovsrec_bridge_set_datapath_type(br, cfg->datapath_type);
        changed = true;
    }
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        ovsrec_bridge_set_fail_mode(br, "secure");
        changed = true;
    }
    if (br->n_protocols != ARRAY_SIZE(protocols)) {
        ovsrec_bridge_set_protocols(br, protocols, ARRAY_SIZE(protocols));
        changed = true;
    }

    const struct ovsrec_port *gre = find_port(br, OVERLAY_GRE_PORT);
    if (!gre) {
        gre = insert_port(txn, OVERLAY_GRE_PORT, "gre");
        set_gre_options(gre->interfaces[0], cfg);
        ovsrec_bridge_update_ports_addvalue(br, gre);
        changed = true;
    } else if (gre->n_interfaces
               && !gre_options_ok(gre->interfaces[0], cfg)) {
        set_gre_options(gre->interfaces[0], cfg);
        changed = true;
    }
    return changed;
}

/* Stores in '*ifaces' (freed by the caller; the strings belong to 'idl')
 * the VM interfaces of br-int, those whose external_ids name a VM or a MAC,
 * and in '*gre_ofport' the GRE port's OpenFlow port (or 0).  Returns the
 * number of interfaces. */
size_t
overlay_bridge_ifaces(struct ovsdb_idl *idl,
                      const struct overlay_bridge_cfg *cfg,
                      struct overlay_iface **ifaces, int64_t *gre_ofport)
{
    const struct ovsrec_bridge *br = find_bridge(idl, cfg->bridge);
    size_t n = 0, allocated = 0;

    *ifaces = NULL;
    *gre_ofport = 0;
    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            int64_t ofport = iface->n_ofport ? iface->ofport[0] : 0;
            if (!strcmp(iface->name, OVERLAY_GRE_PORT)) {
                *gre_ofport = ofport;
                continue;
            }
            const char *vm_id = smap_get(&iface->external_ids, "vm-id");
            const char *mac = smap_get(&iface->external_ids, "attached-mac");
            if (!vm_id && !mac) {
                continue;
            }
            if (n >= allocated) {
                *ifaces = x2nrealloc(*ifaces, &allocated, sizeof **ifaces);
            }
            (*ifaces)[n++] = (struct overlay_iface) {
                .name = iface->name, .ofport = ofport,
                .vm_id = vm_id, .attached_mac = mac,
            };
        }
    }
    return n;
}

/* Marks the interfaces named in 'installed' and unmarks the others of
 * br-int.  Returns true if it changed anything. */
bool
overlay_bridge_mark_installed(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                              const struct overlay_bridge_cfg *cfg,
                              const struct sset *installed)
{
    const struct ovsrec_bridge *br = find_bridge(idl, cfg->bridge);
    bool changed = false;

    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            bool marked = smap_get_bool(&iface->external_ids,
                                        OVERLAY_INSTALLED_KEY, false);
            bool bound = sset_contains(installed, iface->name);
            if (bound && !marked) {
                ovsrec_interface_update_external_ids_setkey(
                    iface, OVERLAY_INSTALLED_KEY, "true");
                changed = true;
            } else if (!bound && marked) {
                ovsrec_interface_update_external_ids_delkey(
                    iface, OVERLAY_INSTALLED_KEY);
                changed = true;
            }
        }
    }
    return changed;
}
