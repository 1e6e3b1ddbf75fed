"""The lab's vmroam database and IPAM: the PA and CA leases, the policies
"up" applies, and vmroam's own validator run on the lab's policy."""

import json
import os
import re
import sys
import tempfile

from .common import LabError, run, say, VMROAM, warn


def vmroam(lab, *args, check=True):
    """bin/vmroam on the lab's database."""
    return run([VMROAM, "--state-dir", lab.db_dir] + list(args), check=check)


def vmroam_error(p):
    return (p.stderr or p.stdout or "").strip().replace("\n", "\n  ")


def allocate_pa(lab, host):
    """Leases host a PA in its footprint (exactly its "pa" if it has one)
    and places the host in the subnet that holds it."""
    args = ["ipam", "pa", "allocate", "--host", host.name, "--footprint", host.footprint]
    if host.want_pa:
        args += ["--address", host.want_pa]
    p = vmroam(lab, *args, check=False)
    if p.returncode != 0:
        raise LabError("%s: IPAM leased no PA%s in footprint %s (vmroam exit %d):\n  %s"
                       % (host.name, " " + host.want_pa if host.want_pa else "",
                          host.footprint, p.returncode, vmroam_error(p)))
    lines = p.stdout.split()
    try:
        host.set_pa(lines[-1])
    except (IndexError, ValueError):
        raise LabError("%s: vmroam ipam pa allocate printed no address: %r"
                       % (host.name, p.stdout)) from None
    if host.want_pa and host.pa != host.want_pa:
        raise LabError("%s: asked IPAM for PA %s, got %s" % (host.name, host.want_pa,
                                                           host.pa))


def allocate_ca(lab, vm):
    """Leases vm its CA (exactly the lab file's) in its virtual subnet."""
    p = vmroam(lab, "ipam", "allocate", "--vsid", str(vm.vsid), "--vm", vm.name,
               "--mac", vm.mac, "--address", vm.ca, check=False)
    if p.returncode != 0:
        raise LabError("vm %s: IPAM refused CA %s in VSID %d (vmroam exit %d):\n  %s"
                       % (vm.name, vm.ca, vm.vsid, p.returncode, vmroam_error(p)))


def leased_pas(lab):
    """{host: PA} of the active PA leases in the lab's database."""
    p = vmroam(lab, "--timeout", "5", "ipam", "leases", "--format", "json", check=False)
    if p.returncode != 0:
        raise LabError("cannot read the PA leases of lab %s (is the lab up?):\n  %s"
                       % (lab.name, vmroam_error(p)))
    try:
        t = json.loads(p.stdout)
        col = {h: i for i, h in enumerate(t["headings"])}
        pas = {}
        for row in t["data"]:
            if row[col["kind"]] == "PA" and row[col["state"]] == "active":
                holder, addr = row[col["holder"]], row[col["address"]]
                if holder in pas and pas[holder] != addr:
                    warn("host %s holds two PA leases, %s and %s" % (holder, pas[holder],
                                                                     addr))
                pas.setdefault(holder, addr)
        return pas
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise LabError("vmroam ipam leases --format json: unexpected output (%s)" % e)


def ipam_check(lab):
    """Fails unless "vmroam ipam check" finds the lookup records and leases
    consistent."""
    p = vmroam(lab, "ipam", "check", check=False)
    text = (p.stdout + p.stderr).strip()
    if p.returncode != 0:
        raise LabError("vmroam ipam check (exit %d):\n  %s"
                       % (p.returncode, text.replace("\n", "\n  ")))
    say("ipam check: " + (text.splitlines()[-1] if text else "ok"))


# How the agents reach the vmroam database.  By default over the
# management network with SSL and their host certificates, on the listener
# "vmroam db start --ssl-listen" opens at the database's management
# address, under the agent role (each agent writes only its own rows).
# With VMROAM_LAB_AGENT_DB=unix in the environment of "up" or "start",
# through the database's unix socket instead, which every namespace
# reaches, with no role: to compare the two (make bench), or to give one
# host a certificate the database would refuse (the fault matrix).  The
# command line always uses the unix socket: it is the administrator's
# access.
DB_SSL_PORT = 6641


def agent_db(lab):
    """vmroamd's --db."""
    if os.environ.get("VMROAM_LAB_AGENT_DB", "ssl") == "unix":
        return "unix:" + lab.db_sock
    return "ssl:%s:%d" % (lab.mgmt_db_addr, DB_SSL_PORT)


def db_start_command(lab):
    """"vmroam db start" for the lab's database, with the agents' listener."""
    return [VMROAM, "--state-dir", lab.db_dir, "db", "start", "--ssl-listen",
            "%s:%d" % (lab.mgmt_db_addr, DB_SSL_PORT)]


def start_db_server(lab):
    """Starts the vmroam database in the management namespace, so that it
    listens for agents there ("up", and "start FILE db")."""
    say("vmroam database in %s: unix:%s (admin), %s (agents)"
        % (lab.mgmt_ns, lab.db_sock, agent_db(lab)))
    run(db_start_command(lab), ns=lab.mgmt_ns)


def start_db(lab):
    """Starts the vmroam database and applies the base policy (routing
    domains and provider subnets: what IPAM leases from)."""
    start_db_server(lab)
    apply_policy(lab, "base-policy.json", lab.base_policy(), "base policy")


def apply_policy(lab, name, policy, what):
    path = os.path.join(lab.state, name)
    with open(path, "w") as f:
        json.dump(policy, f, indent=2)
        f.write("\n")
    p = vmroam(lab, "policy", "apply", path)
    last = p.stdout.strip().splitlines()
    say("  %s applied: %s" % (what, last[-1] if last else "ok"))


def check_policy(lab):
    """vmroam's own validator on the policy generated from the lab (it checks
    what Lab does not: duplicate CAs and MACs, gateways, ...); exits 2.
    The PAs are not leased yet: the records carry provisional ones."""
    pas, host = lab.provisional_pas()
    if pas is None:
        print("lab: %s: host %s: footprint %s has no address left for it"
              % (lab.path, host.name, host.footprint), file=sys.stderr)
        raise SystemExit(2)
    with tempfile.NamedTemporaryFile("w", prefix="vmroam-lab-", suffix=".json") as f:
        json.dump(lab.policy(pas), f, indent=2)
        f.flush()
        p = run([VMROAM, "policy", "validate", f.name], check=False)
        if p.returncode == 0:
            return
        # The generated file keeps the lab's order: lookup_records[N] is vms[N].
        text = (p.stderr + p.stdout).strip().replace(f.name, lab.path)
        text = re.sub(r"lookup_records\[(\d+)\]", r"vms[\1]", text)
        text = re.sub(r"; nothing was changed", "", text)
        print("lab: the lab's policy is invalid:\n" + text, file=sys.stderr)
        raise SystemExit(2)
