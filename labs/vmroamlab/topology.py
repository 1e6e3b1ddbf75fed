"""The lab file: parsed and checked into Subnet, Host and VM objects (Lab),
and the vmroam policies made from it."""

import ipaddress
import json
import os
import re
import sys

from .common import (
    GUEST_DIRTY_MBPS, HOST_PORT_PREFIX, IFNAMSIZ, IMAGES, LAB_ROOT, LabError,
    MGMT_DB_INDEX, MGMT_HOST_BASE, MGMT_PORT_PREFIX, MGMT_PREFIX, MIGRATION_PORT_BASE,
    MIGRATION_PORTS, VM_HOSTS, VM_PORT_PREFIX, VM_STORAGE, VM_TYPES, warn)
from .ipam import leased_pas
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


class Subnet:
    def __init__(self, index, footprint, net, gateway):
        self.index = index
        self.footprint = footprint
        self.net = net                    # ipaddress.IPv4Network
        self.gateway = gateway            # str
        self.bridge = "br-s%d" % index    # Linux bridge in the router ns


class Host:
    def __init__(self, lab, name, footprint, want_pa):
        self.lab = lab
        self.name = name
        self.footprint = footprint
        self.want_pa = want_pa            # "pa" of the lab file (str) or None
        self.pa = None                    # the leased PA (str), once known
        self.subnet = None                # the provider subnet holding it
        self.ns = "%s-%s" % (lab.name, name)
        self.run = os.path.join(lab.state, name)
        self.router_port = HOST_PORT_PREFIX + name
        self.mgmt_port = MGMT_PORT_PREFIX + name
        self.index = len(lab.hosts)       # its place in the file
        self.mgmt_addr = str(lab.mgmt_net[MGMT_HOST_BASE + self.index])
        self.libvirt = os.path.join(self.run, "libvirt")   # libvirtd-ns STATEDIR
        self.libvirt_pidfile = os.path.join(self.libvirt, "libvirtd.pid")
        # As "libvirtd-ns uri STATEDIR" prints it (checked when it starts).
        self.libvirt_uri = ("qemu+unix:///system?socket=%s/sock/libvirt-sock"
                            % self.libvirt)
        self.migration_port = MIGRATION_PORT_BASE + MIGRATION_PORTS * self.index

    def set_pa(self, pa):
        """Places the host at pa (its IPAM lease): the subnet that holds it."""
        a = ipaddress.IPv4Address(pa)
        sub = [s for s in self.lab.subnets if a in s.net]
        if not sub:
            raise LabError("%s: its PA %s is in no provider subnet of the lab"
                           % (self.name, pa))
        self.pa, self.subnet = str(a), sub[0]

    @property
    def cidr(self):
        return "%s/%d" % (self.pa, self.subnet.net.prefixlen)

    @property
    def hwaddr(self):
        """br-phy's own MAC, derived from the PA (never the veth's MAC)."""
        return "02:fe:" + ":".join(
            "%02x" % b for b in ipaddress.IPv4Address(self.pa).packed)

    @property
    def db(self):
        return "unix:%s/db.sock" % self.run

    def pidfile(self, prog):
        return os.path.join(self.run, prog + ".pid")

    def env(self):
        """Environment for OVS tools and daemons of this host."""
        env = dict(os.environ)
        env.update(OVS_RUNDIR=self.run, OVS_DBDIR=self.run, OVS_LOGDIR=self.run,
                   OVS_SYSCONFDIR=os.path.join(self.run, "etc"))
        return env


class VM:
    def __init__(self, lab, name, host, vsid, ca, mac, vsubnet, vtype="netns",
                 dirty=GUEST_DIRTY_MBPS, storage=None):
        self.lab = lab
        self.name = name
        self.host = host                  # netns: its host; qemu: where "up" starts it
        self.vsid = vsid
        self.ca = ca
        self.mac = mac
        self.net = vsubnet["net"]
        self.gateway = vsubnet.get("gateway")
        self.tenant = vsubnet["domain"]
        self.type = vtype
        self.qemu = vtype == "qemu"
        self.dirty = dirty                # qemu: vmroam.dirty (MB/s)
        self.storage = storage or VM_STORAGE    # qemu: "shared" or "copy"
        # A QEMU guest has no namespace: its NIC is a tap that libvirt plugs
        # into br-int (named v-VM too, <target dev=...>).
        self.ns = None if self.qemu else "%s-%s" % (lab.name, name)
        self.port = VM_PORT_PREFIX + name

    # QEMU guests: paths as the host's libvirtd sees them (its private mount
    # namespace has HOSTRUN/libvirt/{log,lib} at /var/log/libvirt,
    # /var/lib/libvirt) and as they are on disk.
    def serial_log(self, host):
        """The guest's serial log written by QEMU on host (append='on': a
        guest that migrated there continues it)."""
        return os.path.join(host.libvirt, "log", "qemu", self.name + "-serial.log")

    def qemu_log(self, host):
        return os.path.join(host.libvirt, "log", "qemu", self.name + ".log")

    @property
    def disk(self):
        """The disk's path in the domain XML."""
        if self.storage == "copy":
            return "/var/lib/libvirt/images/%s.qcow2" % self.name
        return os.path.join(self.lab.state, IMAGES, self.name + ".qcow2")

    def disk_files(self):
        """The disk's files on disk: one shared file, or one per host."""
        if self.storage == "copy":
            return [os.path.join(h.libvirt, "lib", "images", self.name + ".qcow2")
                    for h in self.lab.hosts]
        return [self.disk]

    @property
    def cmdline(self):
        return ("console=ttyS0 quiet vmroam.ca=%s/%d%s vmroam.dirty=%d "
                "vmroam.disk=/dev/vda vmroam.name=%s" % (
                    self.ca, self.net.prefixlen,
                    " vmroam.gw=" + self.gateway if self.gateway else "",
                    self.dirty, self.name))


class Lab:
    """A parsed and checked lab file."""

    TOP_KEYS = {"name", "description", "provider_subnets", "hosts",
                "routing_domains", "vms", "customer_routes"}

    def __init__(self, path):
        self.path = path
        self.errors = []
        try:
            with open(path) as f:
                self.raw = json.load(f)
        except OSError as e:
            print("lab: %s: %s" % (path, e.strerror), file=sys.stderr)
            raise SystemExit(2) from None
        except json.JSONDecodeError as e:
            print("lab: %s: line %d, column %d: %s" % (path, e.lineno, e.colno, e.msg),
                  file=sys.stderr)
            raise SystemExit(2) from None
        self._parse()
        if self.errors:
            for e in self.errors:
                print("lab: %s: %s" % (path, e), file=sys.stderr)
            raise SystemExit(2)
        self._load_vm_hosts()

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    def _load_vm_hosts(self):
        """Puts every VM that "move" re-plugged on its current host: the state
        file VM_HOSTS in the state directory maps VM names to host names."""
        try:
            with open(self.vm_hosts_file) as f:
                moved = json.load(f)
            if not isinstance(moved, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            warn("%s: %s (ignored)" % (self.vm_hosts_file, e))
            return
        hosts = {h.name: h for h in self.hosts}
        vms = {v.name: v for v in self.vms}
        for vm, host in moved.items():
            if vm in vms and host in hosts:
                vms[vm].host = hosts[host]
            else:
                warn("%s: %s on %s: no such VM or host in %s (ignored)"
                     % (self.vm_hosts_file, vm, host, self.path))

    def save_vm_hosts(self, vm):
        """Records vm's current host (vm.host) for later invocations."""
        try:
            with open(self.vm_hosts_file) as f:
                moved = json.load(f)
            if not isinstance(moved, dict):
                moved = {}
        except (OSError, ValueError):
            moved = {}
        moved[vm.name] = vm.host.name
        tmp = self.vm_hosts_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(moved, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.vm_hosts_file)

    def _list(self, key):
        v = self.raw.get(key, [])
        if not isinstance(v, list):
            self.err(key, "must be an array")
            return []
        return v

    def _obj(self, where, o, required, optional=()):
        if not isinstance(o, dict):
            self.err(where, "must be an object")
            return False
        ok = True
        for k in required:
            if k not in o:
                self.err(where, "missing member \"%s\"" % k)
                ok = False
        for k in o:
            if k not in required and k not in optional:
                self.err("%s.%s" % (where, k), "unknown member")
                ok = False
        return ok

    def _name(self, where, v, maxlen):
        if not isinstance(v, str) or not NAME_RE.match(v):
            self.err(where, "%r is not a name (letters, digits, _ . -)" % (v,))
            return False
        if len(v) > maxlen:
            self.err(where, "%r is longer than %d characters (interface names "
                     "are limited to %d)" % (v, maxlen, IFNAMSIZ))
            return False
        return True

    def _parse(self):
        raw = self.raw
        if not isinstance(raw, dict):
            print("lab: %s: the lab must be a JSON object" % self.path, file=sys.stderr)
            raise SystemExit(2)
        for k in raw:
            if k not in self.TOP_KEYS:
                self.err(k, "unknown member")
        self.name = raw.get("name")
        if not isinstance(self.name, str) or not NAME_RE.match(self.name) \
                or len(self.name) > 32:
            self.err("name", "required: a name of at most 32 letters, digits, _ . -")
            self.name = "invalid"
        self.state = os.path.join(LAB_ROOT, self.name)
        self.db_dir = os.path.join(self.state, "db")
        self.db_sock = os.path.join(self.db_dir, "db.sock")
        self.pki_dir = os.path.join(self.db_dir, "pki")
        self.vm_hosts_file = os.path.join(self.state, VM_HOSTS)
        self.router_ns = self.name + "-router"
        self.mgmt_ns = self.name + "-mgmt"
        self.mgmt_net = ipaddress.IPv4Network(MGMT_PREFIX)
        self.mgmt_db_addr = str(self.mgmt_net[MGMT_DB_INDEX])
        # Host i's management address is .(MGMT_HOST_BASE + i), below the
        # broadcast address.
        self.max_hosts = self.mgmt_net.num_addresses - 1 - MGMT_HOST_BASE

        self.subnets = []
        for i, s in enumerate(self._list("provider_subnets")):
            w = "provider_subnets[%d]" % i
            if not self._obj(w, s, ("footprint", "prefix", "gateway")):
                continue
            try:
                net = ipaddress.IPv4Network(s["prefix"])
                gw = ipaddress.IPv4Address(s["gateway"])
            except (ValueError, TypeError) as e:
                self.err(w, "%s (an IPv4 prefix and gateway are needed)" % e)
                continue
            if gw not in net or gw in (net.network_address, net.broadcast_address):
                self.err(w + ".gateway", "%s is not a host address of %s" % (gw, net))
                continue
            for o in self.subnets:
                if net.overlaps(o.net):
                    self.err(w + ".prefix", "%s overlaps %s" % (net, o.net))
            self._outside_mgmt(w + ".prefix", net)
            self.subnets.append(Subnet(i, s["footprint"], net, str(gw)))

        self.hosts = []
        seen_pa = {}
        footprints = {s.footprint for s in self.subnets}
        hosts = self._list("hosts")
        if len(hosts) > self.max_hosts:
            self.err("hosts", "%d hosts; the management network %s has room for %d"
                     % (len(hosts), self.mgmt_net, self.max_hosts))
        for i, h in enumerate(hosts[:self.max_hosts]):
            w = "hosts[%d]" % i
            if not self._obj(w, h, ("name", "footprint"), ("pa",)):
                continue
            if not self._name(w + ".name", h["name"],
                              IFNAMSIZ - len(HOST_PORT_PREFIX)):
                continue
            fp = h["footprint"]
            if not isinstance(fp, str) or fp not in footprints:
                self.err(w + ".footprint", "%r is no provider subnet's footprint "
                         "(footprints: %s)" % (fp, ", ".join(sorted(footprints))))
                continue
            pa = h.get("pa")
            if pa is not None:
                # A static PA: "up" asks IPAM for exactly this address.
                try:
                    pa = ipaddress.IPv4Address(pa)
                except (ValueError, TypeError) as e:
                    self.err(w + ".pa", str(e))
                    continue
                sub = [s for s in self.subnets if pa in s.net and s.footprint == fp]
                if not sub:
                    self.err(w + ".pa", "%s is in no provider subnet of footprint %s"
                             % (pa, fp))
                    continue
                s = sub[0]
                if str(pa) == s.gateway or pa in (s.net.network_address,
                                                  s.net.broadcast_address):
                    self.err(w + ".pa", "%s is not a host address of %s" % (pa, s.net))
                    continue
                if str(pa) in seen_pa:
                    self.err(w + ".pa", "%s is also host %s's" % (pa, seen_pa[str(pa)]))
                    continue
                pa = str(pa)
                seen_pa[pa] = h["name"]
            self.hosts.append(Host(self, h["name"], fp, pa))

        self.vsubnets = {}                # vsid -> {net, gateway, domain}
        self.routing_domains = self._list("routing_domains")
        for i, d in enumerate(self.routing_domains):
            w = "routing_domains[%d]" % i
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                self.err(w, "must be an object with a \"name\"")
                continue
            vss = d.get("virtual_subnets", [])
            if not isinstance(vss, list):
                self.err(w + ".virtual_subnets", "must be an array")
                continue
            for j, vs in enumerate(vss):
                ww = "%s.virtual_subnets[%d]" % (w, j)
                if not isinstance(vs, dict) or not isinstance(vs.get("vsid"), int):
                    self.err(ww, "must be an object with an integer \"vsid\"")
                    continue
                try:
                    net = ipaddress.ip_network(vs.get("prefix"))
                except (ValueError, TypeError) as e:
                    self.err(ww + ".prefix", str(e))
                    continue
                self._outside_mgmt(ww + ".prefix", net)
                self.vsubnets[vs["vsid"]] = {"net": net, "gateway": vs.get("gateway"),
                                             "domain": d["name"]}

        self.vms = []
        hosts = {h.name: h for h in self.hosts}
        for i, v in enumerate(self._list("vms")):
            w = "vms[%d]" % i
            if not self._obj(w, v, ("name", "host", "vsid", "ca", "mac"),
                             ("type", "dirty", "storage")):
                continue
            storage = v.get("storage")
            if storage is not None and storage not in ("shared", "copy"):
                self.err(w + ".storage", "%r is not \"shared\" or \"copy\""
                         % (storage,))
                continue
            vtype = v.get("type", "netns")
            if vtype not in VM_TYPES:
                self.err(w + ".type", "%r is no VM type (%s)"
                         % (vtype, ", ".join(VM_TYPES)))
                continue
            dirty = v.get("dirty", GUEST_DIRTY_MBPS)
            if "dirty" in v and vtype != "qemu":
                self.err(w + ".dirty", "only a \"qemu\" VM has a dirty rate")
                continue
            if not isinstance(dirty, int) or isinstance(dirty, bool) or dirty < 0:
                self.err(w + ".dirty", "%r is not a rate in MB/s (an integer >= 0)"
                         % (dirty,))
                continue
            if not self._name(w + ".name", v["name"], IFNAMSIZ - len(VM_PORT_PREFIX)):
                continue
            if v["host"] not in hosts:
                self.err(w + ".host", "no host named %r" % (v["host"],))
                continue
            vs = self.vsubnets.get(v["vsid"])
            if vs is None:
                self.err(w + ".vsid", "%r is no virtual subnet's vsid" % (v["vsid"],))
                continue
            try:
                ca = ipaddress.ip_address(v["ca"])
            except (ValueError, TypeError) as e:
                self.err(w + ".ca", "%s (a bare address; the prefix length comes "
                         "from the virtual subnet)" % e)
                continue
            if ca.version == 6 and vtype == "qemu":
                # The guest's init configures an IPv4 address only.
                self.err(w + ".ca", "%s: a \"qemu\" VM takes an IPv4 CA only "
                         "(IPv6 VMs are \"netns\")" % ca)
                continue
            if ca.version != vs["net"].version or ca not in vs["net"]:
                self.err(w + ".ca", "%s is outside virtual subnet %d (%s)"
                         % (ca, v["vsid"], vs["net"]))
                continue
            if not isinstance(v["mac"], str) or not MAC_RE.match(v["mac"]):
                self.err(w + ".mac", "%r is not a MAC address" % (v["mac"],))
                continue
            self.vms.append(VM(self, v["name"], hosts[v["host"]], v["vsid"],
                               str(ca), v["mac"].lower(), vs, vtype, dirty,
                               storage))
        self.has_qemu = any(v.qemu for v in self.vms)

        nodes = ["router", "mgmt"] + [h.name for h in self.hosts] + \
            [v.name for v in self.vms]
        dups = sorted({n for n in nodes if nodes.count(n) > 1})
        if dups:
            self.err("hosts/vms", "node names must be unique and not \"router\" or "
                     "\"mgmt\": " + ", ".join(dups))
        if not self.hosts and not self.errors:
            self.err("hosts", "the lab has no hosts")
        for i, h in enumerate(self.hosts):
            if h.name in ("db", IMAGES):
                self.err("hosts[%d].name" % i, "%r is taken by the state directory "
                         "(%s/%s)" % (h.name, self.state, h.name))

    def _outside_mgmt(self, where, net):
        """Errs when net overlaps the management network, an address space
        of its own: over a provider subnet a host would have two ways to an
        address, over a virtual subnet an address would be a VM's or a
        host's depending on where one looks."""
        if net.version == 4 and net.overlaps(self.mgmt_net):
            self.err(where, "%s overlaps the lab's management network %s"
                     % (net, self.mgmt_net))

    def namespaces(self):
        return [self.router_ns, self.mgmt_ns] + [h.ns for h in self.hosts] + \
            [v.ns for v in self.vms if v.ns]

    def node_ns(self, node):
        """(namespace, host) of node; (None, VM) for a QEMU VM, which has no
        namespace; (None, None) when there is no such node."""
        if node == "router":
            return self.router_ns, None
        if node == "mgmt":
            return self.mgmt_ns, None
        for h in self.hosts:
            if h.name == node:
                return h.ns, h
        for v in self.vms:
            if v.name == node:
                return v.ns, (v if v.qemu else None)
        return None, None

    def base_policy(self):
        """What IPAM needs before any host or VM exists: the routing domains
        (their virtual subnets are the CA pools) and the provider subnets
        (the PA pools).  No lookup records."""
        return {
            "routing_domains": self.raw.get("routing_domains", []),
            "provider_subnets": [{"footprint": s.footprint, "prefix": str(s.net),
                                  "gateway": s.gateway} for s in self.subnets],
        }

    def policy(self, pas=None):
        """The vmroam policy file of this lab: one lookup record per VM with
        its host's PA (pas: {host: PA} instead of the hosts' leased PAs)."""
        p = self.base_policy()
        p["lookup_records"] = [
            {"vsid": v.vsid, "ca": v.ca, "mac": v.mac,
             "pa": pas[v.host.name] if pas else v.host.pa, "host": v.host.name,
             "vm": v.name} for v in self.vms]
        if "customer_routes" in self.raw:
            p["customer_routes"] = self.raw["customer_routes"]
        return p

    def provisional_pas(self):
        """{host: PA} for checking the lab's policy before anything exists:
        the host's own "pa", else the first address of its footprint that
        no other host takes (IPAM may pick another one; this is only for
        "vmroam policy validate")."""
        taken = {h.want_pa for h in self.hosts if h.want_pa}
        pas = {}
        for h in self.hosts:
            pa = h.want_pa
            for s in self.subnets:
                if pa or s.footprint != h.footprint:
                    continue
                for a in s.net.hosts():
                    if str(a) != s.gateway and str(a) not in taken:
                        pa = str(a)
                        break
            if pa is None:
                return None, h
            taken.add(pa)
            pas[h.name] = pa
        return pas, None

    def load_pas(self):
        """Sets every host's PA from its IPAM lease in the lab's database
        (for the commands that run after "up")."""
        if all(h.pa for h in self.hosts):
            return
        leases = leased_pas(self)
        for h in self.hosts:
            if h.name in leases:
                h.set_pa(leases[h.name])
