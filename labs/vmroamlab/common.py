"""Constants, errors and process helpers that every part of the lab shares:
running a command (in a namespace), pidfiles, waiting for a condition."""

import os
import shlex
import signal
import subprocess
import sys
import time

LAB_ROOT = "/run/vmroam-lab"
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
UNDERLAY_MTU = 9000
VM_MTU = 1500
IFNAMSIZ = 15                     # longest Linux interface name
HOST_PORT_PREFIX = "p-"           # router end of a host's veth
# The management network: one Linux bridge in the namespace NAME-mgmt, which
# also holds the vmroam database; every host reaches it on its own veth
# (MGMT_DEV in the host, MGMT_PORT_PREFIX + HOST on the bridge).  It is how
# an agent reaches the database before it has a PA (it learns its PA there).
# The lab file's provider and virtual subnets may not overlap it.
MGMT_PREFIX = "10.254.0.0/24"
MGMT_DB_INDEX = 1                 # the database: MGMT_PREFIX's .1, on the bridge
MGMT_HOST_BASE = 10               # host i: .(10 + i)
MGMT_BRIDGE = "br-mgmt"
MGMT_DEV = "mgmt0"
MGMT_PORT_PREFIX = "m-"           # bridge end of a host's management veth
VM_PORT_PREFIX = "v-"             # host end of a VM's veth (OVS port on br-int)
HOST_DAEMONS = ("vmroamd", "ovs-vswitchd", "ovsdb-server")   # stop order
# A lab with a QEMU VM also runs a libvirtd per host (labs/libvirt/libvirtd-ns,
# state in HOSTRUN/libvirt, pidfile HOSTRUN/libvirt/libvirtd.pid); it stops
# after vmroamd and before ovs-vswitchd (libvirt unplugs the taps from br-int).
LIBVIRTD = "libvirtd"
DAEMONS = HOST_DAEMONS + (LIBVIRTD,)  # what stop/start/restart accept
INSTALLED_KEY = "vmroam-installed"
VM_HOSTS = "vm-hosts.json"        # state file: {VM: current host} of moved VMs
VM_TYPES = ("netns", "qemu")      # a namespace on a veth, or a QEMU guest under libvirt
# QEMU guests (VMs of "type": "qemu").
GUEST_MEMORY_MIB = 256
GUEST_DIRTY_MBPS = 2              # vmroam.dirty: keep migrations to few passes
GUEST_DISK_MB = 64
QEMU_EMULATOR = "/usr/bin/qemu-system-x86_64"
# The pause the lab's migrations aim at (vmroamd --max-downtime).  QEMU 7.2
# under TCG loses dirty pages when a migration takes 4 or more passes
# (labs/libvirt/README.md); with 300 ms (vmroam's default) a busy machine
# sometimes needs a 4th, so the lab lets QEMU stop the guest a pass earlier.
LAB_MAX_DOWNTIME_MS = 3000
MIGRATION_PORT_BASE = 49152       # host i takes ports BASE + i*64 .. +63
MIGRATION_PORTS = 64
IMAGES = "images"                 # STATE/images: the lab's shared storage
# Where a QEMU VM's disk lives: "shared" (STATE/images/VM.qcow2, the same
# file for every host: plain live migration, virsh migrate --unsafe) or
# "copy" (/var/lib/libvirt/images/VM.qcow2 inside each host's libvirtd, i.e.
# HOSTRUN/libvirt/lib/images/VM.qcow2, created empty on every other host:
# shared-nothing migration with --copy-storage-all).  A VM's "storage" in
# the lab file overrides this default.
VM_STORAGE = os.environ.get("VMROAM_LAB_STORAGE") or "shared"
# libvirt's QEMU capabilities cache, kept between labs: a libvirtd that finds
# a valid one answers in 0.1 s instead of 7-8 s (it probes QEMU otherwise;
# libvirt itself re-probes when QEMU or libvirt changed).
CAPS_CACHE = os.path.join(os.environ.get("VMROAM_CACHE") or "/var/cache/vmroam",
                          "libvirt-qemu-capabilities")
# labs/, which holds the entry point "lab", libvirt/ and guest/.
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(HERE, "lab")
BIN_DIR = os.environ.get("VMROAM_BIN") or os.path.join(os.path.dirname(HERE), "bin")
VMROAM = os.path.join(BIN_DIR, "vmroam")
VMROAMD = os.path.join(BIN_DIR, "vmroamd")
LIBVIRTD_NS = os.path.join(HERE, "libvirt", "libvirtd-ns")
QEMU_HOOK = os.path.join(HERE, "libvirt", "qemu-hook")
GUEST_BUILD = os.path.join(HERE, "guest", "build")
VERBOSE = False


class LabError(Exception):
    """An operational failure: printed, then "up" tears down."""


class Interrupted(Exception):
    """SIGTERM/SIGHUP while building."""


def say(msg):
    print(msg, flush=True)


def warn(msg):
    print("lab: warning: " + msg, file=sys.stderr, flush=True)


def run(cmd, ns=None, env=None, check=True, timeout=30, out=None):
    """Runs cmd (in namespace ns); returns the CompletedProcess.

    With out=PATH, stdout and stderr go to that file instead of pipes (for
    daemons: a detached child that kept our pipes would block us)."""
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    if VERBOSE:
        say("+ " + shlex.join(full))
    try:
        if out:
            with open(out, "ab") as f:
                p = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=f,
                                   stderr=subprocess.STDOUT, env=env, timeout=timeout)
            with open(out, errors="replace") as f:
                p.stdout, p.stderr = "", f.read()[-2000:]
        else:
            p = subprocess.run(full, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %d s: %s" % (timeout, shlex.join(full))) from None
    except FileNotFoundError:
        raise LabError("command not found: %s" % full[0]) from None
    if check and p.returncode != 0:
        msg = (p.stderr or p.stdout or "").strip()
        raise LabError("command failed (exit %d): %s%s" % (
            p.returncode, shlex.join(full), "\n  " + msg.replace("\n", "\n  ") if msg else ""))
    return p


def netns_list():
    p = run(["ip", "netns", "list"], check=False)
    return {line.split()[0] for line in p.stdout.splitlines() if line.strip()}


def sysctl(ns, key, value):
    run(["sysctl", "-qw", "%s=%s" % (key, value)], ns=ns)


def has_addr(ns, dev, cidr):
    """True when dev in namespace ns holds the IPv4 address cidr (A.B.C.D/N)."""
    p = run(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", dev], check=False)
    return " inet %s " % cidr in p.stdout


def add_netns(ns):
    """A new namespace with lo up (loopback is down in a new one)."""
    run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])


def add_bridge(ns, bridge, cidr, mtu=None):
    """A Linux bridge in ns holding the address cidr, up, forwarding at once
    (no STP: a lab segment has no loops, and STP would hold the ports in
    the listening state for seconds)."""
    run(["ip", "-n", ns, "link", "add", bridge, "type", "bridge",
         "forward_delay", "0", "stp_state", "0"])
    run(["ip", "-n", ns, "link", "set", bridge] + (["mtu", mtu] if mtu else []) + ["up"])
    run(["ip", "-n", ns, "addr", "add", cidr, "dev", bridge])


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()[-n:]
        return "\n  | ".join(["%s (last lines):" % path] + lines)
    except OSError:
        return "%s: not readable" % path


def read_pid(pidfile):
    try:
        with open(pidfile) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def proc_alive(pid):
    """True when pid runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def pidfile_process(pidfile):
    """The pid in pidfile if that process is alive and is ours: its command
    line names the pidfile's directory (pids get reused)."""
    pid = read_pid(pidfile)
    if pid is None or not proc_alive(pid):
        return None
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    d = os.path.dirname(os.path.abspath(pidfile)) + "/"
    return pid if any(d in a for a in args) else None


def stop_pidfile(pidfile, what, kill=False):
    """Stops the process of pidfile: SIGTERM, 5 s, then SIGKILL (with kill:
    SIGKILL at once, like a crash).  False when it was not running."""
    pid = pidfile_process(pidfile)
    if pid is None:
        return False
    return stop_pid(pid, what, kill)


def stop_pid(pid, what, kill=False):
    """stop_pidfile() for a pid the caller checked."""
    say("  %s %s (pid %d)" % ("killing" if kill else "stopping", what, pid))
    steps = ((signal.SIGTERM, 5.0), (signal.SIGKILL, 3.0))
    for sig, wait in steps[1:] if kill else steps:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not proc_alive(pid):
                return True
            time.sleep(0.05)
    warn("%s (pid %d) did not stop" % (what, pid))
    return True


def wait_for(what, cond, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        r = cond()
        if r:
            return r
        if time.monotonic() > deadline:
            raise LabError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        say("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
