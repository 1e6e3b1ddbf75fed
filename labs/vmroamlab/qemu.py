"""QEMU VMs under libvirt: the guest image, one libvirtd per host, the
domains and their serial logs, where a guest runs now (it may have
migrated), and stopping all of it."""

import os
import re
import shlex
import time
import uuid
from xml.sax.saxutils import escape, quoteattr

from . import common
from .common import (
    CAPS_CACHE, GUEST_BUILD, GUEST_DISK_MB, GUEST_MEMORY_MIB, LabError, LIBVIRTD_NS,
    MIGRATION_PORTS, pidfile_process, proc_alive, QEMU_EMULATOR, QEMU_HOOK, read_pid, run, say,
    stop_pid, stop_pidfile, tail, warn)
from .hosts import vsctl
from .vms import br_int_args, wait_port


def build_guest():
    """labs/guest/build (cached): the guest's directory with vmlinuz and
    initrd.gz."""
    t = time.monotonic()
    p = run([GUEST_BUILD], check=False, timeout=900)
    lines = p.stdout.strip().splitlines()
    d = lines[-1] if lines else ""
    if p.returncode != 0 or not all(
            os.path.isfile(os.path.join(d, f)) for f in ("vmlinuz", "initrd.gz")):
        raise LabError("%s failed (exit %d):\n  %s" % (
            GUEST_BUILD, p.returncode,
            (p.stderr + p.stdout).strip().replace("\n", "\n  ")))
    say("guest: %s (%s, %.1f s)" % (d, os.path.relpath(GUEST_BUILD), time.monotonic() - t))
    return d


def virsh(host, *args, check=True, timeout=60):
    """virsh on host's libvirtd."""
    return run(["virsh", "-q", "-c", host.libvirt_uri] + list(args), check=check,
               timeout=timeout)


def start_libvirtd(lab, host):
    """Starts host's libvirtd (labs/libvirt/libvirtd-ns: in the host's network
    namespace and a private mount namespace, state in HOSTRUN/libvirt) and
    waits until it answers.  Its environment has the host's OVS_* variables,
    so the "ovs-vsctl" that libvirt runs for <virtualport type='openvswitch'/>
    talks to this host's switch."""
    say("libvirtd on %s: migration ports %d-%d" % (
        host.name, host.migration_port, host.migration_port + MIGRATION_PORTS - 1))
    caps = os.path.join(host.libvirt, "cache", "qemu", "capabilities")
    copy_caps(CAPS_CACHE, caps)
    write_qemu_hook(host)
    t = time.monotonic()
    p = run([LIBVIRTD_NS, "start", "%s-%s" % (host.lab.name, host.name), host.ns,
             host.libvirt, host.migration_port], env=host.env(), check=False,
            timeout=150)
    took = time.monotonic() - t
    if p.returncode != 0 or pidfile_process(host.libvirt_pidfile) is None:
        raise LabError("%s: libvirtd did not start (%s exit %d)\n  %s\n  %s" % (
            host.name, os.path.relpath(LIBVIRTD_NS), p.returncode,
            p.stderr.strip().replace("\n", "\n  "),
            tail(os.path.join(host.libvirt, "log", "libvirtd.log"))))
    lines = p.stdout.strip().splitlines()
    if not lines or lines[-1] != host.libvirt_uri:
        warn("%s: libvirtd-ns printed %r, the lab uses %s" % (
            host.name, lines[-1] if lines else "", host.libvirt_uri))
    say("  %s (answered after %.1f s)" % (host.libvirt_uri, took))
    copy_caps(caps, CAPS_CACHE)


def write_qemu_hook(host):
    """host's /etc/libvirt/hooks/qemu (libvirtd looks for it when it
    starts).  libvirt calls it, with the domain's XML on its standard
    input, at every step of a domain's life, a migration's included, and
    waits for it: so it reads the XML, and only once a QEMU has started
    runs labs/libvirt/qemu-hook, in the background, which deepens the
    packet socket of the QEMU's tap in host's ovs-vswitchd.  It prints
    nothing: libvirt keeps the domain's XML as it is."""
    hooks = os.path.join(host.libvirt, "etc", "hooks")
    os.makedirs(hooks, exist_ok=True)
    path = os.path.join(hooks, "qemu")
    with open(path + ".tmp", "w") as f:
        f.write("#!/bin/sh\n"
                "# libvirt's QEMU hook on lab host %s, written by the lab\n"
                "cat >/dev/null\n"
                "[ \"$2\" = started ] || exit 0\n"
                "setsid %s %s %s </dev/null >>/var/log/libvirt/qemu-hook.log 2>&1 &\n" % (
                    host.name, shlex.quote(QEMU_HOOK),
                    shlex.quote(host.pidfile("ovs-vswitchd")), shlex.quote(host.name)))
    os.chmod(path + ".tmp", 0o755)
    os.replace(path + ".tmp", path)


def copy_caps(src, dst):
    """Copies the *.xml files of libvirt's capabilities cache src into dst
    (when they differ); a failure only costs time."""
    try:
        names = [f for f in os.listdir(src) if f.endswith(".xml")]
        if names:
            os.makedirs(dst, exist_ok=True)
        for f in names:
            with open(os.path.join(src, f), "rb") as i:
                data = i.read()
            d = os.path.join(dst, f)
            try:
                with open(d, "rb") as o:
                    if o.read() == data:
                        continue
            except OSError:
                pass
            with open(d + ".tmp", "wb") as o:
                o.write(data)
            os.replace(d + ".tmp", d)
    except OSError as e:
        if common.VERBOSE:
            warn("libvirt capabilities cache %s -> %s: %s" % (src, dst, e))


def qemu_pids(statedir, ns=None):
    """{pid: domain} of the live QEMUs of the libvirtd in statedir, by their
    pidfiles (run/qemu/DOMAIN.pid, /run/libvirt/qemu inside the daemon):
    only a qemu-system process started for that domain (-name guest=DOMAIN)
    and, when ns is given and exists, living in network namespace ns."""
    found = {}
    qdir = os.path.join(statedir, "run", "qemu")
    try:
        names = [f for f in os.listdir(qdir) if f.endswith(".pid")]
    except OSError:
        return found
    try:
        ns_ino = os.stat("/run/netns/" + ns).st_ino if ns else None
    except OSError:
        ns_ino = None
    for f in names:
        dom = f[:-4]
        pid = read_pid(os.path.join(qdir, f))
        if pid is None or not proc_alive(pid):
            continue
        try:
            exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
            with open("/proc/%d/cmdline" % pid, "rb") as c:
                args = c.read().decode(errors="replace").split("\0")
            net_ino = os.stat("/proc/%d/ns/net" % pid).st_ino
        except OSError:
            continue
        if not exe.startswith("qemu-system"):
            continue
        if not any(a == "guest=" + dom or a.startswith("guest=%s," % dom) for a in args):
            continue
        if ns_ino is not None and net_ino != ns_ino:
            continue
        found[pid] = dom
    return found


def stop_libvirt(statedir, what, ns=None):
    """For "down": libvirtd-ns stop (destroys the daemon's domains, which
    unplugs their taps, stops libvirtd, kills the QEMUs a dead daemon left),
    then, should anything survive, libvirtd and its QEMUs by their
    pidfiles."""
    if not os.path.isdir(statedir):
        return
    pidfile = os.path.join(statedir, "libvirtd.pid")
    pid = pidfile_process(pidfile)
    if pid is None and not qemu_pids(statedir, ns):
        return
    domains = ", ".join(sorted(qemu_pids(statedir, ns).values()))
    say("  stopping libvirtd of %s%s%s" % (
        what, " (pid %d)" % pid if pid else " (not running)",
        ", destroying " + domains if domains else ""))
    p = run([LIBVIRTD_NS, "stop", statedir], check=False, timeout=120)
    if p.returncode != 0:
        warn("libvirtd-ns stop %s: %s" % (statedir, (p.stderr or p.stdout).strip()))
    elif p.stderr.strip():
        say("  " + p.stderr.strip().replace("\n", "\n  "))   # QEMUs it killed
    stop_pidfile(pidfile, "libvirtd of " + what)
    for qpid, dom in sorted(qemu_pids(statedir, ns).items()):
        stop_pid(qpid, "QEMU of %s on %s" % (dom, what))


def vm_locations(lab, vm):
    """[(host, state)] of every host whose libvirtd has vm active (state
    "running", "paused", ...; during a migration both ends)."""
    found = []
    for h in lab.hosts:
        if pidfile_process(h.libvirt_pidfile) is None:
            continue
        p = virsh(h, "list", check=False, timeout=20)
        for line in p.stdout.splitlines():
            f = line.split(None, 2)
            if len(f) >= 3 and f[1] == vm.name:
                found.append((h, f[2].strip()))
    return found


def vm_host_now(lab, vm):
    """(host, state) where vm runs now: a netns VM's host; for a QEMU VM the
    host whose libvirtd runs it (a running domain wins over a paused one,
    e.g. the incoming end of a migration); (None, why) if none has it."""
    if not vm.qemu:
        return vm.host, "netns"
    where = vm_locations(lab, vm)
    for h, state in where:
        if state == "running":
            return h, state
    if where:
        return where[0]
    return None, "no libvirtd of lab %s has domain %s" % (lab.name, vm.name)


def domain_uuid(lab, vm):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vmroam-lab:%s:%s" % (lab.name, vm.name)))


def domain_xml(lab, vm, guest):
    """The libvirt domain of a QEMU VM.  Every path is the same on every host
    (kernel and initrd in the guest cache, the disk in the lab's shared
    images directory or in each libvirtd's own /var/lib/libvirt/images, the
    serial log in each libvirtd's own /var/log/libvirt), so the domain
    migrates unchanged."""
    q = quoteattr
    return """<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <title>vmroam lab {lab} VM {name}</title>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file={disk}/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'/>
      <mac address={mac}/>
      <target dev={port}/>
      <model type='virtio'/>
      <driver name='qemu'>
        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>
      </driver>
      <rom enabled='no'/>
    </interface>
    <serial type='pty'>
      <log file={log} append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
""".format(name=escape(vm.name), uuid=domain_uuid(lab, vm), lab=escape(lab.name),
           mem=GUEST_MEMORY_MIB, kernel=escape(os.path.join(guest, "vmlinuz")),
           initrd=escape(os.path.join(guest, "initrd.gz")), cmdline=escape(vm.cmdline),
           emulator=escape(QEMU_EMULATOR), disk=q(vm.disk), mac=q(vm.mac), port=q(vm.port),
           log=q("/var/log/libvirt/qemu/%s-serial.log" % vm.name))


def start_guest(lab, vm, guest):
    """Makes vm's disk, defines its domain on its host's libvirtd and starts
    it; libvirt plugs its tap v-VM into br-int (external_ids attached-mac)."""
    h = vm.host
    say("vm %s: QEMU guest %s/%d %s on %s (vsid %d, %s), port %s, disk %s" % (
        vm.name, vm.ca, vm.net.prefixlen, vm.mac, h.name, vm.vsid, vm.tenant,
        vm.port, vm.disk))
    for f in vm.disk_files():
        if not os.path.exists(f):
            os.makedirs(os.path.dirname(f), exist_ok=True)
            run(["qemu-img", "create", "-q", "-f", "qcow2", f, "%dM" % GUEST_DISK_MB])
    args = br_int_args(h)      # libvirt's "ovs-vsctl add-port br-int" needs it
    if args:
        vsctl(h, *args)
    path = os.path.join(lab.state, "domain-%s.xml" % vm.name)
    with open(path, "w") as f:
        f.write(domain_xml(lab, vm, guest))
    virsh(h, "define", path)
    vm.started = time.monotonic()
    virsh(h, "start", vm.name)
    wait_port(h, vm.port, "br-int")


STATUS_RE = re.compile(r"vmroam \S+ hb=\d+ ")


def finished_lines(text):
    """The lines of a serial log's text, less a last one without its
    newline: QEMU writes the log as the guest prints, so that line may
    still be half written."""
    text = text.replace("\r", "")
    return text[:text.rfind("\n") + 1].splitlines()


def last_status(path, size=8192):
    """The guest's last status line ("vmroam VM hb=N ...") in its serial
    log, or None."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    m = [line for line in finished_lines(text) if STATUS_RE.match(line)]
    return m[-1] if m else None


def wait_guests(lab, vms, timeout):
    """Waits until every QEMU guest of vms prints status lines (hb=) on its
    serial console: its workload runs."""
    say("waiting for %d QEMU guest(s) to run their workload (timeout %d s)"
        % (len(vms), timeout))
    deadline = time.monotonic() + timeout
    pending, next_check = list(vms), 0
    while pending:
        for vm in list(pending):
            line = last_status(vm.serial_log(vm.host))
            if line:
                say("  %s: %.1f s after virsh start: %s" % (
                    vm.name, time.monotonic() - vm.started, line))
                pending.remove(vm)
        if not pending:
            break
        now = time.monotonic()
        if now > deadline or now > next_check:
            for vm in pending:
                state = virsh(vm.host, "domstate", vm.name, check=False).stdout.strip()
                if now > deadline or state != "running":
                    raise LabError("vm %s on %s: %s\n  %s\n  %s" % (
                        vm.name, vm.host.name,
                        "no status line after %d s" % timeout if state == "running"
                        else "domain is %s" % (state or "gone"),
                        tail(vm.serial_log(vm.host)), tail(vm.qemu_log(vm.host))))
            next_check = now + 2
        time.sleep(0.25)
