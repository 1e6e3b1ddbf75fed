"""The subcommands: each cmd_NAME(lab, args) does "lab NAME" and returns the
exit status (up, down, status, exec, stop/start/restart, move, console,
vmhost)."""

import json
import os
import re
import shutil
import signal
import sys
import time

from .common import (
    DAEMONS, GUEST_BUILD, HOST_DAEMONS, IMAGES, Interrupted, LAB, LAB_ROOT, LabError,
    LIBVIRTD, LIBVIRTD_NS, netns_list, pidfile_process, proc_alive, QEMU_EMULATOR,
    run, say, stop_pidfile, table, tail, UNDERLAY_MTU, VMROAM, VMROAMD,
    VSWITCH_SCHEMA, wait_for, warn)
from .hosts import (
    build_host, build_router, deepen_sockets, make_pki, ping, put_underlay, start_agent,
    start_ovsdb_server, start_vswitchd, underlay_state, vsctl, wait_underlay,
    warm_tunnel_neighbours)
from .ipam import (
    agent_db, allocate_ca, allocate_pa, apply_policy, check_policy, ipam_check, start_db,
    start_db_server)
from .mgmt import build_mgmt, mgmt_state
from .qemu import (
    build_guest, finished_lines, last_status, start_guest, start_libvirtd,
    stop_libvirt, vm_host_now, wait_guests)
from .topology import NAME_RE, VM
from .vms import (
    build_vm, installed_ports, plug_vm, unplug_vm, wait_dad, wait_installed)


def preflight(lab):
    if os.geteuid() != 0:
        raise SystemExit("lab: must run as root")
    if lab.has_qemu:
        missing = [t for t in ("virsh", "qemu-img", "unshare") if shutil.which(t) is None]
        missing += [f for f in (QEMU_EMULATOR, "/usr/sbin/libvirtd")
                    if not os.access(f, os.X_OK)]
        if missing:
            raise SystemExit("lab: QEMU VMs need %s (apt-get install -y "
                             "--no-install-recommends qemu-system-x86 qemu-utils "
                             "libvirt-daemon libvirt-daemon-driver-qemu "
                             "libvirt-clients)" % " ".join(missing))
        for f in (LIBVIRTD_NS, GUEST_BUILD):
            if not os.access(f, os.X_OK):
                raise SystemExit("lab: %s missing" % f)
    missing = [t for t in ("ip", "sysctl", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd",
                           "ovs-vsctl", "ovs-appctl", "ethtool", "ping")
               if shutil.which(t) is None]
    if missing:
        raise SystemExit("lab: missing tools: %s (apt-get install -y "
                         "--no-install-recommends openvswitch-switch ethtool "
                         "iputils-ping iproute2 procps)" % " ".join(missing))
    if not os.path.exists(VSWITCH_SCHEMA):
        raise SystemExit("lab: %s missing (Open vSwitch installed?)" % VSWITCH_SCHEMA)
    if not os.access(VMROAM, os.X_OK):
        raise SystemExit("lab: %s missing: run make first" % VMROAM)


def summary(lab, agents):
    say("\nlab %s is up (state %s)" % (lab.name, lab.state))
    q = lab.has_qemu              # extra columns only in a lab with QEMU VMs
    rows = [("HOST", "PA (IPAM LEASE)", "SUBNET", "GATEWAY", "FOOTPRINT", "MGMT",
             "VMROAMD") + (("LIBVIRT URI",) if q else ())]
    for h in lab.hosts:
        rows.append((h.name, h.cidr, str(h.subnet.net), h.subnet.gateway,
                     h.subnet.footprint, h.mgmt_addr, "running" if agents else "skipped")
                    + ((h.libvirt_uri,) if q else ()))
    table(rows)
    say("\nvmroam database in %s (management network %s): unix:%s (admin), %s (agents)"
        % (lab.mgmt_ns, lab.mgmt_net, lab.db_sock, agent_db(lab)))
    rows = [("VM", "HOST", "CA", "MAC", "TENANT", "VSID") + (("TYPE",) if q else ())]
    for v in lab.vms:
        rows.append((v.name, v.host.name, "%s/%d" % (v.ca, v.net.prefixlen), v.mac,
                     v.tenant, str(v.vsid)) + ((v.type,) if q else ()))
    say("")
    table(rows)
    me = os.path.relpath(LAB)
    say("\nrun commands in a node: %s exec %s NODE CMD..." % (me, lab.path))
    if q:
        say("QEMU VMs: %s console %s VM (serial log), %s vmhost %s VM (where it runs)"
            % (me, lab.path, me, lab.path))


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def cmd_up(lab, args):
    preflight(lab)
    present = netns_list() & set(lab.namespaces())
    if present or os.path.exists(lab.state):
        raise SystemExit("lab: lab %s is (partly) up already (%s); run \"%s down %s\" first"
                         % (lab.name, ", ".join(sorted(present)) or lab.state,
                            sys.argv[0], lab.path))
    check_policy(lab)
    agents = os.access(VMROAMD, os.X_OK)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    t0 = time.monotonic()
    try:
        os.makedirs(lab.state)
        with open(os.path.join(lab.state, "lab.json"), "w") as f:
            json.dump(lab.raw, f, indent=2)
        guest = None
        if lab.has_qemu:
            guest = build_guest()
            # The lab's shared storage: one directory every host's libvirtd
            # sees at the same path (their mount namespaces only hide
            # /etc/libvirt, /run/libvirt, /var/lib/libvirt, ...).
            os.makedirs(os.path.join(lab.state, IMAGES))

        build_router(lab)
        build_mgmt(lab)           # the database's network, before the database
        make_pki(lab)             # before the database: it listens with SSL
        start_db(lab)             # and the base policy: the pools IPAM leases from
        if not agents:
            warn("%s not found: not starting agents (the lab puts the PAs on br-phy "
                 "itself), not waiting for VM ports" % VMROAMD)
        for h in lab.hosts:
            allocate_pa(lab, h)
            build_host(lab, h)
            if lab.has_qemu:
                start_libvirtd(lab, h)    # before vmroamd: it connects at start
            if agents:
                start_agent(lab, h)
                wait_underlay(h)  # vmroamd puts the PA and default route on br-phy
            else:
                put_underlay(h)
        # Warm the neighbour caches toward same-subnet peers too (the
        # gateway is done): the first packet to an unresolved next hop is lost.
        for h in lab.hosts:
            for o in lab.hosts:
                if o is not h and o.subnet is h.subnet:
                    ping(h, o.pa, "host " + o.name)
        if lab.vms:
            say("leasing the VMs' customer addresses")
        for v in lab.vms:
            allocate_ca(lab, v)
        apply_policy(lab, "policy.json", lab.policy(), "policy")
        guests = [v for v in lab.vms if v.qemu]
        for v in guests:          # first: they boot while the rest is built
            start_guest(lab, v, guest)
        for v in lab.vms:
            if not v.qemu:
                build_vm(lab, v)
        if agents and lab.vms:
            wait_installed(lab, args.timeout)
        wait_dad(lab.vms)
        if guests:
            wait_guests(lab, guests, args.boot_timeout)
        if agents:
            for h in lab.hosts:
                warm_tunnel_neighbours(lab, h)
        ipam_check(lab)
    except (LabError, Interrupted, KeyboardInterrupt, OSError) as e:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if isinstance(e, (Interrupted, KeyboardInterrupt)):
            msg = "interrupted (%s)" % (str(e) or "SIGINT")
        else:
            msg = str(e)
        print("lab: up failed: %s" % msg, file=sys.stderr, flush=True)
        say("tearing down lab %s" % lab.name)
        teardown(lab)
        return 1
    summary(lab, agents)
    say("(up in %.1f s)" % (time.monotonic() - t0))
    return 0


def saved_namespaces(lab):
    """Namespaces named by the copy of the lab file that "up" saved (it may
    differ from FILE if FILE was edited since)."""
    try:
        with open(os.path.join(lab.state, "lab.json")) as f:
            raw = json.load(f)
        nodes = [n.get("name") for n in raw.get("hosts", []) + raw.get("vms", [])
                 if n.get("type", "netns") != "qemu"]      # a QEMU VM has none
        return {"%s-%s" % (lab.name, n) for n in nodes
                if isinstance(n, str) and NAME_RE.match(n)}
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def host_dirs(lab):
    """Every host directory of the state dir (also of hosts no longer in FILE)."""
    dirs = {h.run for h in lab.hosts}
    try:
        for d in os.listdir(lab.state):
            p = os.path.join(lab.state, d)
            if d not in ("db", IMAGES) and os.path.isdir(p):
                dirs.add(p)
    except OSError:
        pass
    return sorted(dirs)


def ns_pids(namespaces):
    """{pid: (namespace, command line)} of the processes in namespaces."""
    found = {}
    for ns in namespaces:
        for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if proc_alive(int(pid)):
                found[int(pid)] = (ns, cmd)
    return found


def teardown(lab):
    """Removes everything up made; safe when some or all of it is missing."""
    mine = set(lab.namespaces()) | saved_namespaces(lab)
    prefix = lab.name + "-"
    present = sorted(n for n in netns_list() & mine if n.startswith(prefix))
    # A daemon that an interrupted "up" was starting writes its pidfile a
    # moment later: while processes remain in the lab's namespaces, look
    # at the pidfiles again for a little while.
    deadline = time.monotonic() + 2.0
    while True:
        for d in host_dirs(lab):
            host = os.path.basename(d)
            for prog in HOST_DAEMONS:
                if prog == "ovs-vswitchd":
                    # libvirtd and its QEMUs (a lab with QEMU VMs): after
                    # vmroamd, while the switch still runs (libvirt unplugs).
                    stop_libvirt(os.path.join(d, "libvirt"), host,
                                 "%s-%s" % (lab.name, host))
                stop_pidfile(os.path.join(d, prog + ".pid"), "%s of %s" % (prog, host))
        stop_db(lab)              # last: it runs in the management namespace
        left = ns_pids(present)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid, (ns, cmd) in sorted(left.items()):
        warn("process %d still runs in %s and is in no pidfile of the lab "
             "(not killed): %s" % (pid, ns, cmd))

    for ns in present:
        p = run(["ip", "netns", "del", ns], check=False)
        if p.returncode != 0:
            warn("ip netns del %s: %s" % (ns, p.stderr.strip()))
    if present:
        say("  deleted namespaces: " + " ".join(present))
    if os.path.exists(lab.state):
        shutil.rmtree(lab.state, ignore_errors=True)
        say("  removed " + lab.state)
    try:
        os.rmdir(LAB_ROOT)
    except OSError:
        pass
    left = netns_list() & mine
    return 1 if left or os.path.exists(lab.state) else 0


def db_pidfile(lab):
    return os.path.join(lab.db_dir, "ovsdb-server.pid")


def stop_db(lab, kill=False):
    """Stops the vmroam database (vmroam db stop, else by its pidfile; with
    kill: SIGKILL at once, like a crash); quiet when it is not running.
    False when it was not running."""
    if not os.path.isdir(lab.db_dir):
        return False
    if kill:
        return stop_pidfile(db_pidfile(lab), "vmroam database", kill=True)
    stopped = False
    if os.access(VMROAM, os.X_OK):
        p = run([VMROAM, "--state-dir", lab.db_dir, "db", "stop"], check=False)
        if p.returncode != 0:
            warn("vmroam db stop: " + (p.stderr or p.stdout).strip())
        elif "not running" not in p.stdout:
            say("  " + p.stdout.strip())
            stopped = True
    # In case vmroam could not stop it (or is missing).
    return stop_pidfile(db_pidfile(lab), "vmroam database") or stopped


def cmd_down(lab, args):
    if os.geteuid() != 0:
        raise SystemExit("lab: must run as root")
    say("lab %s: down" % lab.name)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)      # finish the cleanup once started
    rc = teardown(lab)
    say("lab %s is down" % lab.name if rc == 0 else "lab %s: some things are left" % lab.name)
    return rc


def cmd_status(lab, args):
    ok = True
    present = netns_list()
    say("lab %s  (file %s, state %s: %s)" % (
        lab.name, lab.path, lab.state, "present" if os.path.isdir(lab.state) else "absent"))
    say("namespaces:")
    for ns in lab.namespaces():
        here = ns in present
        ok &= here
        say("  %-24s %s" % (ns, "present" if here else "absent"))

    say("daemons:")
    pid = pidfile_process(db_pidfile(lab))
    ok &= pid is not None
    say("  %-24s %s" % ("vmroam database", "running (pid %d) in %s, unix:%s (admin), "
                        "%s (agents)" % (pid, lab.mgmt_ns, lab.db_sock, agent_db(lab))
                        if pid else "not running"))
    agents = os.access(VMROAMD, os.X_OK)
    for h in lab.hosts:
        for prog in reversed(HOST_DAEMONS):
            pid = pidfile_process(h.pidfile(prog))
            if prog != "vmroamd" or agents:
                ok &= pid is not None
            say("  %-24s %s" % ("%s %s" % (h.name, prog),
                                "running (pid %d)" % pid if pid else "not running"))
        if lab.has_qemu:
            pid = pidfile_process(h.libvirt_pidfile)
            ok &= pid is not None
            say("  %-24s %s" % ("%s %s" % (h.name, LIBVIRTD), "running (pid %d), %s"
                                % (pid, h.libvirt_uri) if pid else "not running"))

    say("management network %s:" % lab.mgmt_net)
    for node, addr, dev, here in mgmt_state(lab):
        ok &= here
        say("  %-24s %s on %s%s" % (node, addr, dev, "" if here else ": ABSENT"))

    say("provider addresses (IPAM leases):")
    try:
        if os.path.exists(lab.db_sock):
            lab.load_pas()
    except LabError as e:
        say("  " + str(e).replace("\n", "\n  "))
    for h in lab.hosts:
        if h.pa is None:
            ok = False
            say("  %-24s no PA lease" % h.name)
            continue
        on = h.ns in present and all(underlay_state(h))
        ok &= on
        say("  %-24s %s, %s" % (h.name, h.cidr, "with the default route on br-phy"
                                if on else "NOT on br-phy (or no default route)"))

    # Where the QEMU VMs run now (they may have migrated).
    where = {v.name: vm_host_now(lab, v) for v in lab.vms if v.qemu}
    say("VM ports:")
    for h in lab.hosts:
        if pidfile_process(h.pidfile("ovsdb-server")) is None:
            continue
        done = installed_ports(h)
        ports = set(vsctl(h, "list-ports", "br-int", check=False).stdout.split())
        for v in lab.vms:
            if (where[v.name][0] if v.qemu else v.host) is h:
                state = ("installed" if v.port in done else "not installed") \
                    if v.port in ports else "missing"
                ok &= v.port in ports
                say("  %-24s %s" % ("%s %s (%s)" % (h.name, v.port, v.name), state))

    if where:
        say("QEMU guests:")
    for v in lab.vms:
        if not v.qemu:
            continue
        h, state = where[v.name]
        if h is None:
            ok = False
            say("  %-24s not running (%s)" % (v.name, state))
            continue
        line = last_status(v.serial_log(h))
        ok &= state == "running" and line is not None and "FAIL" not in line
        say("  %-24s %s on %s: %s" % (v.name, state, h.name, line or "no status line yet"))

    for h in lab.hosts:
        if pidfile_process(h.pidfile("vmroamd")) is None:
            continue
        ctl = os.path.join(h.run, "vmroamd.ctl")
        say("vmroamd/status on %s:" % h.name)
        p = run(["ovs-appctl", "--timeout=5", "-t", ctl, "vmroamd/status"],
                check=False, timeout=10)
        text = (p.stdout + p.stderr).strip()
        say("  " + text.replace("\n", "\n  ") if text else "  (no output)")
        ok &= p.returncode == 0
    return 0 if ok else 1


def cmd_exec(lab, node, cmd):
    ns, host = lab.node_ns(node)
    if ns is None and isinstance(host, VM):
        print("lab: %s is a QEMU guest: it has no namespace to enter.  Its serial "
              "console: %s console %s %s; where it runs: %s vmhost %s %s; from "
              "another node it answers ping, TCP echo on port 7 and a status line "
              "on port 8 (%s)" % (node, sys.argv[0], lab.path, node, sys.argv[0],
                                  lab.path, node, host.ca), file=sys.stderr)
        return 2
    if ns is None:
        raise SystemExit("lab: no node %r in lab %s (nodes: router mgmt %s)" % (
            node, lab.name, " ".join([h.name for h in lab.hosts]
                                     + [v.name for v in lab.vms])))
    if ns not in netns_list():
        print("lab: namespace %s does not exist (is the lab up?)" % ns, file=sys.stderr)
        return 1
    env = host.env() if host else dict(os.environ)
    os.execvpe("ip", ["ip", "netns", "exec", ns] + cmd, env)


def lab_node(lab, kind, nodes, name):
    """The node of nodes (the lab's hosts or VMs, a kind) called name; exits
    2 naming the ones there are if none is."""
    for n in nodes:
        if n.name == name:
            return n
    print("lab: no %s %r in lab %s (%ss: %s)" % (
        kind, name, lab.name, kind, " ".join(n.name for n in nodes)), file=sys.stderr)
    raise SystemExit(2)


def lab_host(lab, name):
    return lab_node(lab, "host", lab.hosts, name)


def lab_vm(lab, name):
    return lab_node(lab, "VM", lab.vms, name)


def need_namespaces(*namespaces):
    """Exits 1 unless every namespace exists (the lab is up)."""
    if os.geteuid() != 0:
        raise SystemExit("lab: must run as root")
    missing = sorted(set(namespaces) - netns_list())
    if missing:
        print("lab: namespace %s does not exist (is the lab up?)" % ", ".join(missing),
              file=sys.stderr)
        raise SystemExit(1)


def stop_daemon(host, prog, kill=False):
    # libvirtd: only the daemon (by its pidfile); its QEMUs keep running, and
    # a new libvirtd takes them over ("down" destroys them).
    pidfile = host.libvirt_pidfile if prog == LIBVIRTD else host.pidfile(prog)
    if not stop_pidfile(pidfile, "%s of %s" % (prog, host.name), kill):
        say("  %s of %s is not running" % (prog, host.name))


def start_daemon(lab, host, prog):
    """Starts prog of host the way "up" did and waits until it works."""
    pid = pidfile_process(host.libvirt_pidfile if prog == LIBVIRTD
                          else host.pidfile(prog))
    if pid is not None:
        raise LabError("%s of %s is already running (pid %d)" % (prog, host.name, pid))
    if prog == LIBVIRTD:
        if not lab.has_qemu:
            raise LabError("lab %s has no QEMU VM: its hosts run no libvirtd" % lab.name)
        start_libvirtd(lab, host)
        if pidfile_process(host.pidfile("vmroamd")) is not None:
            warn("vmroamd of %s still holds its connection to the old libvirtd: "
                 "restart it too (%s restart %s %s vmroamd)"
                 % (host.name, sys.argv[0], lab.path, host.name))
        return
    if prog == "vmroamd":
        if not os.access(VMROAMD, os.X_OK):
            raise LabError("%s not found" % VMROAMD)
        if lab.has_qemu and pidfile_process(host.libvirt_pidfile) is None:
            raise LabError("libvirtd of %s is not running (vmroamd --libvirt "
                           "connects to it): start it first" % host.name)
        lab.load_pas()
        if host.pa is None:
            raise LabError("%s has no active PA lease in IPAM (vmroam ipam leases)"
                           % host.name)
        start_agent(lab, host)
        if pidfile_process(host.pidfile("ovs-vswitchd")) is not None:
            wait_underlay(host)   # at once: the PA stays on br-phy across restarts
        return
    if prog == "ovsdb-server":
        say("ovsdb-server on %s" % host.name)
        start_ovsdb_server(host)
        return
    if pidfile_process(host.pidfile("ovsdb-server")) is None:
        raise LabError("%s: ovsdb-server is not running: start it first" % host.name)
    lab.load_pas()
    say("ovs-vswitchd on %s" % host.name)
    start_vswitchd(host)
    # Wait until the new process has opened br-phy, br-int and the VM ports
    # again (asking it: the database still holds the old process's ofports),
    # then until the PA and route are back if they went with the old process.
    want = {("br-phy", "br-phy"), ("br-phy", "eth0")}
    if vsctl(host, "br-exists", "br-int", check=False).returncode == 0:
        want.add(("br-int", "br-int"))
    want |= {("br-int", v.port) for v in lab.vms
             if (vm_host_now(lab, v)[0] if v.qemu else v.host) is host}
    try:
        wait_for("ovs-vswitchd's ports", lambda: want <= vswitchd_ports(host), 5)
    except LabError:
        raise LabError("%s: ovs-vswitchd did not open %s\n  %s" % (
            host.name, ", ".join("%s:%s" % bp for bp in sorted(want - vswitchd_ports(host))),
            tail(os.path.join(host.run, "ovs-vswitchd.log"))))
    deepen_sockets(host)
    run(["ip", "-n", host.ns, "link", "set", "br-phy", "mtu", UNDERLAY_MTU, "up"])
    if pidfile_process(host.pidfile("vmroamd")) is not None:
        wait_underlay(host)
        warm_tunnel_neighbours(lab, host)
    else:
        put_underlay(host)


def vswitchd_ports(host):
    """{(bridge, port)} that host's running ovs-vswitchd has open with an
    OpenFlow port number (from ovs-appctl dpif/show)."""
    p = run(["ovs-appctl", "-t", os.path.join(host.run, "ovs-vswitchd.ctl"),
             "dpif/show"], check=False)
    ports, bridge = set(), None
    for line in p.stdout.splitlines():
        m = re.match(r"  (\S+):$", line)
        if m:
            bridge = m.group(1)
            continue
        m = re.match(r"    (\S+) (\d+)/", line)
        if m and bridge and int(m.group(2)) > 0:
            ports.add((bridge, m.group(1)))
    return ports


def daemon_args(lab, a):
    """The host of "stop/start/restart FILE HOST DAEMON", or None for
    "FILE db" (the vmroam database: no host may be called db); exits 2
    when DAEMON is missing or given to db."""
    if a.host == "db":
        if a.daemon is not None:
            print("lab: the database has no daemon %s (lab %s FILE db)"
                  % (a.daemon, a.command), file=sys.stderr)
            raise SystemExit(2)
        need_namespaces(lab.mgmt_ns)
        return None
    host = lab_host(lab, a.host)
    if a.daemon is None:
        print("lab: which daemon of %s? (%s)" % (host.name, ", ".join(DAEMONS)),
              file=sys.stderr)
        raise SystemExit(2)
    need_namespaces(host.ns)
    return host


def cmd_stop(lab, a):
    host = daemon_args(lab, a)
    if host is None:
        if not stop_db(lab, a.kill):
            say("  the vmroam database is not running")
        return 0
    stop_daemon(host, a.daemon, a.kill)
    return 0


def start_db_again(lab):
    """Starts the database as "up" did (its file, policy and leases kept)."""
    pid = pidfile_process(db_pidfile(lab))
    if pid is not None:
        raise LabError("the vmroam database is already running (pid %d)" % pid)
    start_db_server(lab)


def cmd_start(lab, a):
    host = daemon_args(lab, a)
    try:
        if host is None:
            start_db_again(lab)
        else:
            start_daemon(lab, host, a.daemon)
    except (LabError, OSError) as e:
        print("lab: start failed: %s" % e, file=sys.stderr)
        return 1
    return 0


def cmd_restart(lab, a):
    cmd_stop(lab, a)
    return cmd_start(lab, a)


def cmd_move(lab, a):
    vm, host = lab_vm(lab, a.vm), lab_host(lab, a.host)
    if vm.qemu:
        print("lab: %s is a QEMU guest: migrate it with libvirt (virsh -c URI migrate "
              "--live --p2p ...; %s vmhost %s %s says where it runs)"
              % (vm.name, sys.argv[0], lab.path, vm.name), file=sys.stderr)
        return 2
    need_namespaces(vm.ns, host.ns)
    for prog in ("ovsdb-server", "ovs-vswitchd"):
        if pidfile_process(host.pidfile(prog)) is None:
            print("lab: %s of %s is not running" % (prog, host.name), file=sys.stderr)
            return 1
    old = vm.host
    say("vm %s: %s" % (vm.name, "re-plugging its NIC on " + host.name if old is host
                       else "moving its NIC from %s to %s" % (old.name, host.name)))
    try:
        unplug_vm(vm)
        # From here on the VM belongs to its new host (a failed move can be
        # repeated; "down" removes everything either way).
        vm.host = host
        lab.save_vm_hosts(vm)
        plug_vm(vm)
        wait_dad([vm])
    except (LabError, OSError) as e:
        print("lab: move failed: %s" % e, file=sys.stderr)
        return 1
    try:
        lab.load_pas()
    except LabError as e:
        warn(str(e))
    say("vm %s is on %s (port %s); the vmroam policy is unchanged: apply one that "
        "moves its lookup record (pa %s, host %s)" % (
            vm.name, host.name, vm.port, host.pa or "<%s's PA lease>" % host.name,
            host.name))
    return 0


def locate(lab, name):
    """(vm, host, state) of a QEMU VM where it runs now; exits 1 if nowhere."""
    vm = lab_vm(lab, name)
    if not vm.qemu:
        return vm, vm.host, "netns"
    if os.geteuid() != 0:
        raise SystemExit("lab: must run as root")
    host, state = vm_host_now(lab, vm)
    if host is None:
        print("lab: vm %s: %s (is the lab up?)" % (vm.name, state), file=sys.stderr)
        raise SystemExit(1)
    return vm, host, state


def cmd_console(lab, a):
    vm, host, state = locate(lab, a.vm)
    if not vm.qemu:
        print("lab: %s is a namespace VM: it has no console (%s exec %s %s CMD...)"
              % (vm.name, sys.argv[0], lab.path, vm.name), file=sys.stderr)
        return 2
    log = vm.serial_log(host)
    print("lab: %s %s on %s, serial log %s" % (vm.name, state, host.name, log),
          file=sys.stderr, flush=True)
    if a.follow:
        os.execvp("tail", ["tail", "-n", str(a.lines), "-F", log])
    try:
        with open(log, errors="replace") as f:
            lines = finished_lines(f.read())
    except OSError as e:
        print("lab: %s: %s" % (log, e.strerror), file=sys.stderr)
        return 1
    for line in lines[-a.lines:] if a.lines > 0 else []:
        say(line)
    return 0


def cmd_vmhost(lab, a):
    vm, host, state = locate(lab, a.vm)
    say(host.name)
    if state not in ("running", "netns"):
        print("lab: %s is %s on %s" % (vm.name, state, host.name), file=sys.stderr)
    return 0
