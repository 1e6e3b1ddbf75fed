"""The underlay and the hypervisor hosts: the router joining the provider
subnets, and per host its namespace, eth0, mgmt0, ovsdb-server,
ovs-vswitchd, br-phy and vmroamd (the PA and default route it puts on
br-phy, the tunnel neighbour cache)."""

import ctypes
import errno
import os
import re
import shlex
import socket

from .common import (
    add_bridge, add_netns, has_addr, LAB_MAX_DOWNTIME_MS, LabError, MGMT_DEV,
    MIGRATION_PORTS, pidfile_process, proc_alive, run, say, sysctl, tail, UNDERLAY_MTU,
    VMROAM, VMROAMD, VSWITCH_SCHEMA, wait_for, warn)
from .ipam import agent_db
from .mgmt import plug_mgmt


def vsctl(host, *args, check=True, timeout=10):
    return run(["ovs-vsctl", "--db=" + host.db, "--timeout=%d" % timeout] + list(args),
               env=host.env(), check=check, timeout=timeout + 5)


def vmroamd_command(lab, host):
    """The agent's command line on host: adjust the flags here."""
    pki = lab.pki_dir
    cmd = [VMROAMD,
           "--chassis", host.name,
           "--db", agent_db(lab),          # ipam.py: unix socket or SSL
           # The host's certificate (make_pki): for an ssl: database and,
           # in a lab with QEMU VMs, the migration channel.
           "--private-key", os.path.join(pki, host.name + "-privkey.pem"),
           "--certificate", os.path.join(pki, host.name + "-cert.pem"),
           "--ca-cert", os.path.join(pki, "cacert.pem"),
           "--ovs-db", host.db,
           "--underlay-dev", "br-phy",     # vmroamd puts the leased PA here
           "--uplink", "eth0",
           "--detach",
           "--pidfile=" + host.pidfile("vmroamd"),
           "--log-file=" + os.path.join(host.run, "vmroamd.log"),
           "--unixctl=" + os.path.join(host.run, "vmroamd.ctl")]
    if lab.has_qemu:
        # The migration channel: each migration's memory and disks go
        # between the hosts over mutual TLS on port CHANNEL_PORT of their PAs.
        cmd += ["--migration-listen", str(CHANNEL_PORT),
                # A preferred migration network no lab host has, then the
                # lab's provider subnets: each host falls back to its PA.
                "--migration-network", ",".join(
                    [MISSING_MIGRATION_NETWORK]
                    + [str(s.net) for s in lab.subnets])]
        # The host's own libvirtd (it must run first: vmroamd connects at
        # start).  The unix socket is reachable from every lab namespace, so
        # vmroamd publishes the same URI to its peers (Chassis
        # external_ids:libvirt-uri) for --p2p migrations.
        cmd += ["--libvirt", host.libvirt_uri,
                "--max-downtime", str(LAB_MAX_DOWNTIME_MS),
                "--migration-ports", "%d-%d" % (
                    host.migration_port,
                    host.migration_port + MIGRATION_PORTS - 1)]
    return cmd


# Where each lab host's vmroamd receives migrations through the channel.
CHANNEL_PORT = 6643
MISSING_MIGRATION_NETWORK = "10.99.0.0/16"


def make_pki(lab):
    """The lab's host PKI (vmroam pki) in lab.pki_dir: a CA, and a key and
    certificate for every host, whose CN is the host's name.  Made before
    the database starts: "vmroam db start" listens with SSL when it finds
    the CA there."""
    say("host PKI: %s" % lab.pki_dir)
    state = os.path.dirname(lab.pki_dir)
    run([VMROAM, "--state-dir", state, "pki", "init"])
    for h in lab.hosts:
        run([VMROAM, "--state-dir", state, "pki", "host", h.name])


def build_router(lab):
    ns = lab.router_ns
    say("router %s: %s" % (ns, ", ".join("%s %s/%d" % (s.bridge, s.gateway, s.net.prefixlen)
                                         for s in lab.subnets)))
    add_netns(ns)
    sysctl(ns, "net.ipv4.ip_forward", 1)
    sysctl(ns, "net.ipv6.conf.all.disable_ipv6", 1)
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", 1)
    for s in lab.subnets:
        add_bridge(ns, s.bridge, "%s/%d" % (s.gateway, s.net.prefixlen), UNDERLAY_MTU)


def start_ovs_daemon(host, prog, args):
    log = os.path.join(host.run, prog + ".log")
    pidfile = host.pidfile(prog)
    p = run([prog] + args + ["--pidfile=" + pidfile, "--log-file=" + log,
                             "-vconsole:off", "--detach", "--no-chdir"],
            ns=host.ns, env=host.env(), check=False,
            out=os.path.join(host.run, prog + ".start"))
    pid = pidfile_process(pidfile)
    if p.returncode != 0 or pid is None:
        raise LabError("%s: %s did not start (exit %d)\n  %s\n  %s" % (
            host.name, prog, p.returncode, p.stderr.strip(), tail(log)))
    # A stable control socket name next to OVS's own PROG.PID.ctl (after a
    # restart it still points at the previous pid's socket: replace it).
    ctl = os.path.join(host.run, "%s.%d.ctl" % (prog, pid))
    link = os.path.join(host.run, prog + ".ctl")
    if os.path.exists(ctl):
        if os.path.islink(link) and os.readlink(link) != os.path.basename(ctl):
            stale = os.path.join(host.run, os.readlink(link))
            m = re.match(re.escape(prog) + r"\.(\d+)\.ctl$", os.readlink(link))
            if m and not proc_alive(int(m.group(1))):
                try:
                    os.unlink(stale)     # left by a killed daemon
                except OSError:
                    pass
            os.unlink(link)
        if not os.path.lexists(link):
            os.symlink(os.path.basename(ctl), link)
    return pid


def iface_ok(host, iface):
    """True when vswitchd opened iface (an OpenFlow port, no error)."""
    p = vsctl(host, "--if-exists", "get", "Interface", iface, "ofport", "error",
              check=False)
    lines = p.stdout.split("\n")
    if p.returncode != 0 or len(lines) < 2:
        return False
    try:
        ofport = int(lines[0].strip())
    except ValueError:
        return False
    return ofport > 0 and lines[1].strip() in ("", "[]")


def build_host(lab, host):
    ns, s = host.ns, host.subnet
    say("host %s: PA %s leased in %s (%s), namespace %s, %s %s" % (
        host.name, host.cidr, s.net, s.footprint, ns, MGMT_DEV, host.mgmt_addr))
    add_netns(ns)
    # The veth is born in the router ns, its peer directly in the host ns:
    # nothing ever appears in the root namespace.
    run(["ip", "-n", lab.router_ns, "link", "add", host.router_port, "type", "veth",
         "peer", "name", "eth0", "netns", ns])
    run(["ip", "-n", lab.router_ns, "link", "set", host.router_port,
         "mtu", UNDERLAY_MTU, "master", s.bridge, "up"])
    sysctl(ns, "net.ipv6.conf.eth0.disable_ipv6", 1)
    run(["ip", "-n", ns, "link", "set", "eth0", "mtu", UNDERLAY_MTU, "arp", "off", "up"])
    # The database before the PA: vmroamd learns its PA from it.
    plug_mgmt(lab, host)
    ping(host, lab.mgmt_db_addr, "the database",
         over="over the management network (%s)" % MGMT_DEV)

    os.makedirs(os.path.join(host.run, "etc"), exist_ok=True)
    run(["ovsdb-tool", "create", os.path.join(host.run, "conf.db"), VSWITCH_SCHEMA])
    start_ovsdb_server(host)
    start_vswitchd(host)

    # br-phy gets its own MAC in the transaction that creates it.
    vsctl(host, "--", "add-br", "br-phy",
          "--", "set", "Bridge", "br-phy", "datapath_type=netdev",
          'other_config:hwaddr="%s"' % host.hwaddr,
          "--", "set", "Interface", "br-phy", "mtu_request=%d" % UNDERLAY_MTU,
          "--", "add-port", "br-phy", "eth0")
    wait_br_phy(host)
    deepen_sockets(host)
    # Only the link: the PA and the default route are vmroamd's to put on.
    run(["ip", "-n", ns, "link", "set", "br-phy", "mtu", UNDERLAY_MTU, "up"])


def start_ovsdb_server(host):
    start_ovs_daemon(host, "ovsdb-server", [os.path.join(host.run, "conf.db"),
                                            "--remote=punix:%s/db.sock" % host.run])
    vsctl(host, "--no-wait", "init")      # a no-op on an initialised database


def start_vswitchd(host):
    # Only the routes it is given (vmroamd gives it those of the PA): with
    # the kernel's, which it reloads at any link change of the host (a VM's
    # tap made, deleted, or given offloads as the VM resumes), it ends and
    # sends no tunnel packet for those milliseconds (see overlay/routes.h).
    start_ovs_daemon(host, "ovs-vswitchd", [host.db, "--disable-system-route"])


def switch_routes(host):
    """ovs-vswitchd's own routes on host, as ovs/route/show lists them."""
    return run(["ovs-appctl", "-t", os.path.join(host.run, "ovs-vswitchd.ctl"),
                "ovs/route/show"], check=False).stdout


# The receive buffer of ovs-vswitchd's packet sockets (see deepen_sockets).
UPLINK_RCVBUF = 8 << 20
SYS_PIDFD_GETFD = 438
SO_RCVBUFFORCE = 33     # asm-generic/socket.h; Python's socket lacks it
_libc = ctypes.CDLL(None, use_errno=True)


def deepen_sockets(host):
    """deepen_vswitchd_sockets() of host's ovs-vswitchd."""
    deepen_vswitchd_sockets(host.pidfile("ovs-vswitchd"), host.name)


def deepen_vswitchd_sockets(pidfile, name):
    """Gives the packet sockets through which the ovs-vswitchd of pidfile
    (host name) reads its ports an 8 MiB receive buffer (which the kernel
    doubles for its overhead, as for any SO_RCVBUF) instead of the system's
    default (net.core.rmem_default, 208 KiB here, for the whole machine).
    The userspace datapath reads every port through such a socket: eth0,
    where a migration's final burst overflows 208 KiB, and a VM's tap,
    where the guest's answers to the packets held for it while it moved
    come at once when it resumes.  An overflowing socket drops what the
    burst carries: TCP segments, which TCP sends again, and the VMs'
    packets, which nothing sends again.  ovs-vswitchd has no setting for
    it, so the lab takes a copy of each socket (pidfd_getfd) and sets it
    there: when the lab (re)starts ovs-vswitchd, and when libvirt starts a
    QEMU, whose tap is then a new port (labs/libvirt/qemu-hook).  A
    hypervisor's kernel datapath or NIC has no such socket."""
    pid = pidfile_process(pidfile)
    if pid is None:
        return
    try:
        with open("/proc/%d/net/packet" % pid) as f:
            inodes = {line.split()[-1] for line in list(f)[1:]}
        pidfd = os.pidfd_open(pid)
    except OSError:
        return                  # it exited: nothing to deepen
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue        # closed meanwhile
            if not (target.startswith("socket:[")
                    and target[len("socket:["):-1] in inodes):
                continue
            copy = _libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
            if copy < 0:
                if ctypes.get_errno() in (errno.EBADF, errno.ESRCH):
                    continue    # closed meanwhile, or it exited
                raise LabError("%s: cannot take ovs-vswitchd's socket %s: %s" % (
                    name, fd, os.strerror(ctypes.get_errno())))
            try:
                sock = socket.socket(fileno=copy)
            except OSError:
                os.close(copy)  # the number went to something else
                continue
            with sock:
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE,
                                UPLINK_RCVBUF)
    except FileNotFoundError:
        pass                    # it exited while we looked
    finally:
        os.close(pidfd)


def wait_br_phy(host):
    """ovs-vsctl exits 0 even when vswitchd could not make the bridge: check
    that br-phy and its port eth0 are open and br-phy's tap exists."""
    try:
        wait_for("br-phy", lambda: iface_ok(host, "br-phy") and iface_ok(host, "eth0")
                 and run(["ip", "-n", host.ns, "link", "show", "br-phy"],
                         check=False).returncode == 0, 5)
    except LabError:
        raise LabError("%s: ovs-vswitchd did not create br-phy with port eth0\n  %s"
                       % (host.name, tail(os.path.join(host.run, "ovs-vswitchd.log"))))


def underlay_state(host):
    """(has the PA, has the default route, the switch has both routes) on
    host's br-phy."""
    r = run(["ip", "-n", host.ns, "-4", "route", "show", "default"], check=False).stdout
    sw = switch_routes(host)
    return (has_addr(host.ns, "br-phy", host.cidr),
            re.search(r"^default via %s dev br-phy\b" % re.escape(host.subnet.gateway),
                      r, re.M) is not None,
            re.search(r"^User: %s dev br-phy " % re.escape(str(host.subnet.net)), sw, re.M)
            is not None
            and re.search(r"^User: 0\.0\.0\.0/0 dev br-phy GW %s "
                          % re.escape(host.subnet.gateway), sw, re.M) is not None)


def wait_underlay(host, timeout=10):
    """Waits until vmroamd has put host's leased PA and the default route via
    the subnet gateway on br-phy, then pings the gateway."""
    if host.pa is None:
        raise LabError("%s has no active PA lease in IPAM (vmroam ipam leases)"
                       % host.name)
    try:
        def done():
            if pidfile_process(host.pidfile("vmroamd")) is None:
                raise LabError("vmroamd died")
            return all(underlay_state(host))
        wait_for("the PA on br-phy", done, timeout)
    except LabError:
        pa, route, switch = underlay_state(host)
        missing = (["its leased PA %s" % host.cidr] if not pa else []) + \
            (["the default route via %s" % host.subnet.gateway] if not route else []) + \
            (["the switch's routes (ovs/route/show)"] if not switch else [])
        if missing:
            why = ("vmroamd died" if pidfile_process(host.pidfile("vmroamd")) is None
                   else "waited %d s" % timeout)
            raise LabError("%s: vmroamd did not put %s on br-phy (%s)\n  %s" % (
                host.name, " and ".join(missing), why,
                tail(os.path.join(host.run, "vmroamd.log"))))
    ping(host, host.subnet.gateway, "its gateway")


def put_underlay(host):
    """The PA and the default route on br-phy, put by the lab itself: only
    when no vmroamd does it."""
    if host.pa is None:
        raise LabError("%s has no active PA lease in IPAM (vmroam ipam leases)"
                       % host.name)
    run(["ip", "-n", host.ns, "addr", "replace", host.cidr, "dev", "br-phy"])
    run(["ip", "-n", host.ns, "route", "replace", "default", "via",
         host.subnet.gateway, "dev", "br-phy"])
    ctl = os.path.join(host.run, "ovs-vswitchd.ctl")
    run(["ovs-appctl", "-t", ctl, "ovs/route/add", str(host.subnet.net), "br-phy"])
    run(["ovs-appctl", "-t", ctl, "ovs/route/add", "0.0.0.0/0", "br-phy",
         host.subnet.gateway])
    ping(host, host.subnet.gateway, "its gateway")


def ping(host, addr, what, tries=5, over=None):
    """Pings addr from host (over the underlay, unless over says how)."""
    for _ in range(tries):
        if run(["ping", "-c1", "-W1", "-q", addr], ns=host.ns,
               check=False).returncode == 0:
            return
    raise LabError("%s: cannot ping %s %s %s" % (
        host.name, what, addr, over or "from %s over the underlay" % host.pa))


def start_agent(lab, host):
    cmd = vmroamd_command(lab, host)
    if lab.has_qemu:
        # vmroamd sees the files its libvirtd and QEMU see, as on a real
        # host: it proves storage shared by finding, at the same path on the
        # destination, a token the source wrote beside each disk.
        pid = pidfile_process(host.libvirt_pidfile)
        if pid is None:
            raise LabError("%s: libvirtd is not running" % host.name)
        cmd = ["nsenter", "--mount=/proc/%d/ns/mnt" % pid] + cmd
    say("vmroamd on %s" % host.name)
    log = os.path.join(host.run, "vmroamd.log")
    p = run(cmd, ns=host.ns, env=host.env(), check=False,
            out=os.path.join(host.run, "vmroamd.start"))
    if p.returncode != 0 or pidfile_process(host.pidfile("vmroamd")) is None:
        raise LabError("%s: vmroamd did not start (exit %d): %s\n  %s\n  %s" % (
            host.name, p.returncode, shlex.join(cmd), p.stderr.strip(), tail(log)))


def warm_tunnel_neighbours(lab, host):
    """Fills OVS's tunnel neighbour cache of host (tnl/neigh/show).

    ovs-vswitchd snoops ARP replies only once a tunnel port exists, so the
    pings of build_host() taught only the kernel.  Now that vmroamd made its
    GRE port: forget the kernel's entries, ping the gateway and the
    same-subnet peers again, and check that OVS learnt them (else the first
    tunnelled packet toward each next hop is dropped)."""
    p = vsctl(host, "--bare", "--columns=name", "find", "Interface", "type=gre",
              check=False)
    if not p.stdout.split():
        warn("%s: no GRE port yet: tunnel neighbour cache not warmed" % host.name)
        return
    peers = [host.subnet.gateway] + [o.pa for o in lab.hosts
                                     if o is not host and o.subnet is host.subnet]
    run(["ip", "-n", host.ns, "neigh", "flush", "dev", "br-phy"], check=False)
    for addr in peers:
        ping(host, addr, "(warming the tunnel neighbour cache)")
    def learnt():
        p = run(["ovs-appctl", "-t", os.path.join(host.run, "ovs-vswitchd.ctl"),
                 "tnl/neigh/show"], check=False)
        known = {line.split()[0] for line in p.stdout.splitlines()[2:] if line.strip()}
        return not (set(peers) - known)
    try:
        wait_for("tunnel neighbours", learnt, 2)
    except LabError:
        warn("%s: ovs-vswitchd did not learn the tunnel neighbours %s "
             "(tnl/neigh/show)" % (host.name, " ".join(peers)))
