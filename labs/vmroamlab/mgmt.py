"""The management network: the namespace NAME-mgmt, whose bridge br-mgmt
holds the vmroam database's address, and each host's veth mgmt0 into it.

It exists because an agent needs the database before it has a provider
address (vmroamd learns its PA from the database), so the agents cannot
reach the database over the underlay; a hosting company has a management
network for this."""

from .common import (
    add_bridge, add_netns, has_addr, MGMT_BRIDGE, MGMT_DEV, run, say, sysctl)


def cidr(lab, addr):
    return "%s/%d" % (addr, lab.mgmt_net.prefixlen)


def build_mgmt(lab):
    """The management namespace and its bridge, which holds the database's
    address: the database runs in this namespace (ipam.start_db)."""
    ns = lab.mgmt_ns
    say("management network %s: %s %s (the database)" % (
        ns, MGMT_BRIDGE, cidr(lab, lab.mgmt_db_addr)))
    add_netns(ns)
    sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
    add_bridge(ns, MGMT_BRIDGE, cidr(lab, lab.mgmt_db_addr))


def plug_mgmt(lab, host):
    """Gives host its mgmt0, a veth into br-mgmt (both ends born in their
    namespaces, as eth0).  The bridge port is isolated: a host reaches the
    database but not the other hosts, so host-to-host traffic (tunnels,
    migrations) can only take the underlay, where the tests cut it."""
    run(["ip", "-n", lab.mgmt_ns, "link", "add", host.mgmt_port, "type", "veth",
         "peer", "name", MGMT_DEV, "netns", host.ns])
    run(["ip", "-n", lab.mgmt_ns, "link", "set", host.mgmt_port, "master", MGMT_BRIDGE,
         "up"])
    run(["ip", "-n", lab.mgmt_ns, "link", "set", host.mgmt_port, "type", "bridge_slave",
         "isolated", "on"])
    sysctl(host.ns, "net.ipv6.conf.%s.disable_ipv6" % MGMT_DEV, 1)
    run(["ip", "-n", host.ns, "addr", "add", cidr(lab, host.mgmt_addr), "dev", MGMT_DEV])
    run(["ip", "-n", host.ns, "link", "set", MGMT_DEV, "up"])


def mgmt_state(lab):
    """[(node, address, device, present)] of the management network: the
    database's address on br-mgmt, each host's on its mgmt0."""
    rows = [("database", cidr(lab, lab.mgmt_db_addr), MGMT_BRIDGE, lab.mgmt_ns)]
    rows += [(h.name, cidr(lab, h.mgmt_addr), MGMT_DEV, h.ns) for h in lab.hosts]
    return [(node, addr, dev, has_addr(ns, dev, addr)) for node, addr, dev, ns in rows]
