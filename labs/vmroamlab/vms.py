"""Namespace VMs: a namespace whose eth0 is a veth to port v-VM on its
host's br-int, and the wait for vmroamd to install every VM port."""

import json
import os
import time

from .common import (
    add_netns, INSTALLED_KEY, LabError, netns_list, pidfile_process, run, say, sysctl, tail,
    VM_MTU, wait_for, warn)
from .hosts import iface_ok, vsctl


def build_vm(lab, vm):
    say("vm %s: %s/%d %s on %s (vsid %d, %s), port %s" % (
        vm.name, vm.ca, vm.net.prefixlen, vm.mac, vm.host.name, vm.vsid, vm.tenant,
        vm.port))
    add_netns(vm.ns)
    plug_vm(vm)


def plug_vm(vm):
    """Gives vm's namespace its eth0: a veth to port v-VM on vm.host's br-int."""
    h = vm.host
    run(["ip", "-n", h.ns, "link", "add", vm.port, "type", "veth",
         "peer", "name", "eth0", "netns", vm.ns])
    sysctl(h.ns, "net.ipv6.conf.%s.disable_ipv6" % vm.port, 1)
    run(["ip", "-n", h.ns, "link", "set", vm.port, "mtu", VM_MTU, "arp", "off", "up"])
    if vm.net.version == 6:
        sysctl(vm.ns, "net.ipv6.conf.eth0.disable_ipv6", 0)
    run(["ip", "-n", vm.ns, "link", "set", "eth0", "address", vm.mac,
         "mtu", VM_MTU, "up"])
    run(["ip", "-n", vm.ns, "addr", "add", "%s/%d" % (vm.ca, vm.net.prefixlen),
         "dev", "eth0"])
    if vm.gateway:
        run(["ip", "-n", vm.ns, "-%d" % vm.net.version, "route", "add", "default",
             "via", vm.gateway])
    run(["ethtool", "-K", "eth0", "tx", "off"], ns=vm.ns)

    args = br_int_args(h)
    args += ["--", "--may-exist", "add-port", "br-int", vm.port,
             "--", "set", "Interface", vm.port,
             "external_ids:vm-id=%s" % vm.name,
             'external_ids:attached-mac="%s"' % vm.mac]
    vsctl(h, *args)
    wait_port(h, vm.port, "br-int")


def dad_state(vm):
    """Where duplicate address detection of an IPv6 VM's CA stands:
    "tentative", "dadfailed", "done", or "missing" (no such address)."""
    p = run(["ip", "-n", vm.ns, "-6", "-o", "addr", "show", "dev", "eth0"],
            check=False)
    for line in p.stdout.splitlines():
        f = line.split()
        if "inet6" in f and f[f.index("inet6") + 1] == "%s/%d" % (
                vm.ca, vm.net.prefixlen):
            for state in ("dadfailed", "tentative"):
                if state in f:
                    return state
            return "done"
    return "missing"


def wait_dad(vms, timeout=10):
    """Waits until every IPv6 VM of vms may use its CA: its duplicate
    address detection is over (about 1 s: nobody answers it, see the
    responder in overlay/pipeline.c); fails if one lost its address."""
    vms = [v for v in vms if v.ns and v.net.version == 6]
    if not vms:
        return
    say("waiting for duplicate address detection of %d IPv6 VM(s)" % len(vms))
    states = {}

    def done():
        states.update((v.name, dad_state(v)) for v in vms)
        return all(s != "tentative" for s in states.values())
    wait_for("duplicate address detection", done, timeout)
    bad = ["%s %s: %s" % (v.name, v.ca, states[v.name]) for v in vms
           if states[v.name] != "done"]
    if bad:
        raise LabError("IPv6 CA not usable: " + ", ".join(bad))


def br_int_args(h):
    """ovs-vsctl arguments that make br-int if h has none yet."""
    if vsctl(h, "br-exists", "br-int", check=False).returncode == 0:
        return []
    # vmroamd owns br-int; make it the way vmroamd would, so the port can
    # come first.  --may-exist: vmroamd may be creating it right now.
    return ["--", "--may-exist", "add-br", "br-int",
            "--", "set", "Bridge", "br-int", "datapath_type=netdev",
            "fail_mode=secure"]


def unplug_vm(vm):
    """Removes vm's NIC: port v-VM from vm.host's br-int and the veth (its
    eth0 end in the VM goes with it).  Safe when either is missing."""
    h = vm.host
    if pidfile_process(h.pidfile("ovsdb-server")) is not None:
        # Without ovs-vswitchd (stopped by a test), don't wait for it.
        wait = [] if pidfile_process(h.pidfile("ovs-vswitchd")) else ["--no-wait"]
        vsctl(h, *wait, "--if-exists", "del-port", "br-int", vm.port)
    else:
        warn("%s: ovsdb-server is not running: port %s stays in its database"
             % (h.name, vm.port))
    if h.ns in netns_list() and run(["ip", "-n", h.ns, "link", "show", vm.port],
                                    check=False).returncode == 0:
        run(["ip", "-n", h.ns, "link", "del", vm.port])     # and the VM's eth0


def wait_port(host, port, bridge):
    try:
        wait_for("port " + port, lambda: iface_ok(host, port), 5)
    except LabError:
        raise LabError("%s: ovs-vswitchd did not open port %s on %s\n  %s"
                       % (host.name, port, bridge,
                          tail(os.path.join(host.run, "ovs-vswitchd.log"))))


def installed_ports(host):
    p = vsctl(host, "--format=json", "--columns=name,external_ids", "list",
              "Interface", check=False)
    if p.returncode != 0:
        return set()
    done = set()
    for name, ids in json.loads(p.stdout)["data"]:
        if dict(ids[1]).get(INSTALLED_KEY) == "true":
            done.add(name)
    return done


def wait_installed(lab, timeout):
    say("waiting for vmroamd to install %d VM port(s) (timeout %d s)"
        % (len(lab.vms), timeout))
    deadline = time.monotonic() + timeout
    while True:
        missing = []
        for h in lab.hosts:
            vms = [v for v in lab.vms if v.host is h]
            if not vms:
                continue
            if pidfile_process(h.pidfile("vmroamd")) is None:
                raise LabError("%s: vmroamd died\n  %s" % (
                    h.name, tail(os.path.join(h.run, "vmroamd.log"))))
            done = installed_ports(h)
            missing += ["%s:%s" % (h.name, v.port) for v in vms if v.port not in done]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise LabError("timed out after %d s: vmroamd did not set external_ids:"
                           "%s=\"true\" on %s" % (timeout, INSTALLED_KEY,
                                                  ", ".join(missing)))
        time.sleep(0.2)
