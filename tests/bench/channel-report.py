#!/usr/bin/env python3
"""Helpers of tests/bench/channel.sh.

  channel-report.py sample OUT ROLE=PIDFILE...
      Until SIGTERM, reads every 50 ms the CPU time (utime + stime of
      /proc/PID/stat) of the process each ROLE's pidfile names, then writes
      {ROLE: seconds} to OUT: what the process used between the sampler's
      start and its end, or its exit (the last sample, at most 50 ms before
      it; a source QEMU exits when its migration completes).  A process
      that started after the sampler (the destination's QEMU) counts from 0.
      For a QEMU also ROLE_vcpu, its vCPU threads' share ("CPU N/TCG"), and
      ROLE_threads, {thread name: [user s, system s]}.

  channel-report.py report RUNS
      The figures of the migrations listed in RUNS (one tab-separated line
      per migration, written by channel.sh; see FIELDS) per shaping and
      mode, and the two ratio lines.
"""

import json
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "labs"))
from vmroamlab.common import read_pid  # noqa: E402  (the lab's pidfile reader)

TICK = os.sysconf("SC_CLK_TCK")


def parse_stat(text):
    """(comm, fields from field 3 on) of a /proc/.../stat line."""
    comm, rest = text.split("(", 1)[1].rsplit(")", 1)
    return comm, rest.split()


def read_stat(pid):
    """(cpu seconds, start time in ticks since boot) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            _, fields = parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return None
    # fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[19])


def threads(pid):
    """{tid: (comm, user seconds, system seconds, start time in ticks since
    boot)} of pid's threads."""
    found = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return found
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                comm, fields = parse_stat(f.read())
        except (OSError, ValueError, IndexError):
            continue
        found[tid] = (comm, int(fields[11]) / TICK, int(fields[12]) / TICK,
                      int(fields[19]))
    return found


def is_live(pid, role):
    """Whether pid is a process of role's kind (not a recycled pid)."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
    except OSError:
        return False
    return comm.startswith("qemu-system") if "qemu" in role else comm == "vmroamd"


def boot_ticks():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * TICK


def sample(out, specs):
    roles = dict(s.split("=", 1) for s in specs)
    start = boot_ticks()
    seen = {}                   # role -> [pid, first cpu, last cpu]
    tasks = {}                  # qemu role -> {tid: [comm, first u, first s, last u, last s]}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while True:
        for role, pidfile in roles.items():
            s = seen.get(role)
            if s is None:
                pid = read_pid(pidfile)
                st = read_stat(pid) if pid and is_live(pid, role) else None
                if not st:
                    continue
                # Started after the sampler: all its time is this migration's.
                new = st[1] >= start
                s = seen[role] = [pid, 0.0 if new else st[0], st[0]]
            else:
                st = read_stat(s[0])
                if not st:
                    continue                # exited: keep its last sample
                s[2] = st[0]
            if "qemu" in role:
                t = tasks.setdefault(role, {})
                for tid, (comm, u, sy, born) in threads(s[0]).items():
                    if tid not in t:
                        new = born >= start     # a thread of this migration
                        t[tid] = [comm, 0.0 if new else u, 0.0 if new else sy, u, sy]
                    else:
                        t[tid][3:] = [u, sy]
        if stop:
            break
        time.sleep(0.05)
    result = {r: round(s[2] - s[1], 3) for r, s in seen.items()}
    for role, t in tasks.items():
        by_comm = {}
        for comm, u0, s0, u1, s1 in t.values():
            c = "vCPU" if comm.startswith("CPU ") else comm
            u, sy = by_comm.get(c, (0, 0))
            by_comm[c] = (round(u + u1 - u0, 3), round(sy + s1 - s0, 3))
        result[role + "_vcpu"] = round(sum(by_comm.get("vCPU", (0, 0))), 3)
        result[role + "_threads"] = by_comm      # comm: (user s, system s)
    with open(out, "w") as f:
        json.dump(result, f)


# One line per migration in RUNS, tab-separated.
FIELDS = ("n", "shape", "mode", "round", "src", "dst", "rc", "wall_ms", "out",
          "cpu", "underlay_bytes", "retrans", "check", "line")
ROLES = ("src_qemu", "src_qemu_vcpu", "src_vmroamd", "dst_qemu", "dst_qemu_vcpu",
         "dst_vmroamd")


def parse_summary(path):
    """The figures of a "vmroam migrate --wait" summary, or {} (with
    "state") when it has none."""
    r = {}
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return r
    for line in text.splitlines():
        w = line.split()
        if line.startswith("migration of ") and ":" in line:
            r["state"] = line.rsplit(":", 1)[1].strip()
        elif line.strip().startswith("reason:"):
            r["reason"] = line.strip()[len("reason:"):].strip()
        elif w[:1] == ["total"]:
            # total T s (queued Q s), downtime D ms, M MB transferred, I iterations
            r["total"] = float(w[1])
            r["downtime"] = float(w[w.index("downtime") + 1])
            r["mb"] = float(w[w.index("transferred,") - 2])
            r["iterations"] = int(w[w.index("iterations") - 1])
        elif w[:1] == ["channel:"]:
            # channel: S streams, IN MB from QEMU, WIRE MB on the wire (ratio R), ...
            r["streams"] = int(w[1])
            r["in_mb"] = float(w[3])
            r["wire_mb"] = float(w[w.index("on") - 2])
    return r


def stats(xs, fmt):
    if not xs:
        return "-"
    return ("mean " + fmt + ", p50 " + fmt + ", max " + fmt) % (
        statistics.mean(xs), statistics.median(xs), max(xs))


def mean(xs):
    return statistics.mean(xs) if xs else None


MODES = (("plain", "plain (--plain --streams 1)"),
         ("none", "channel, no compression (--compression none)"),
         ("auto", "channel auto (--compression auto)"),
         ("lz4", "channel lz4 (--compression lz4)"))


def report(runs_path):
    runs = []
    with open(runs_path) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            r = dict(zip(FIELDS, v + [""] * (len(FIELDS) - len(v))))
            r.update(parse_summary(r["out"]))
            try:
                r["cpus"] = json.load(open(r["cpu"]))
            except (OSError, ValueError):
                r["cpus"] = {}
            r["ok"] = r["rc"] == "0" and r.get("state") == "done" and "total" in r
            runs.append(r)
    shapes = []
    for r in runs:
        if r["shape"] not in shapes:
            shapes.append(r["shape"])
    means = {}
    shrink = {}
    for shape in shapes:
        print("underlay %s:" % ("shaped to " + shape if shape != "unshaped" else "unshaped"))
        for mode, label in MODES:
            rs = [r for r in runs if r["shape"] == shape and r["mode"] == mode]
            if not rs:
                continue
            ok = [r for r in rs if r["ok"]]
            failed = len(rs) - len(ok)
            bad_check = [r for r in rs if r["check"] != "ok"]
            streams = sorted({r["streams"] for r in ok if "streams" in r})
            print("  %s: n=%d, %d failed migration%s, %d with a checker failed%s" % (
                label, len(rs), failed, "" if failed == 1 else "s", len(bad_check),
                ", %s streams" % "/".join(map(str, streams)) if streams else ""))
            n = len(ok)
            print("    total time    %s s (n=%d)" % (stats([r["total"] for r in ok], "%.2f"), n))
            print("    downtime      %s ms (n=%d)" % (
                stats([r["downtime"] for r in ok], "%.0f"), n))
            qemu = [r["in_mb"] if "in_mb" in r else r["mb"] for r in ok]
            wire = [r["wire_mb"] for r in ok if "wire_mb" in r]
            under = [int(r["underlay_bytes"]) / 1e6 for r in ok
                     if r["underlay_bytes"].isdigit()]
            if wire:
                ratios = [r["in_mb"] / r["wire_mb"] for r in ok if r.get("wire_mb")]
                print("    bytes         %.1f MB from QEMU, %.1f MB on the wire (means); "
                      "ratio %s (n=%d)" % (mean(qemu), mean(wire), stats(ratios, "%.2f"),
                                           len(wire)))
            elif qemu:
                print("    bytes         %.1f MB sent by QEMU on its own TCP connection, "
                      "no channel: ratio 1 (mean, n=%d)" % (mean(qemu), len(qemu)))
            if under:
                print("    underlay      %s MB sent by the source host's uplink (eth0 tx, "
                      "all its traffic; n=%d)" % (stats(under, "%.1f"), len(under)))
            re = [int(r["retrans"]) for r in ok if r["retrans"].isdigit()]
            if re:
                print("    retransmitted %s TCP segments by the source host (n=%d)" % (
                    stats(re, "%.0f"), len(re)))
            cpu = {role: [r["cpus"][role] for r in ok if role in r["cpus"]] for role in ROLES}
            if any(cpu.values()):
                def c(role):
                    return "%.2f" % mean(cpu[role]) if cpu[role] else "-"
                print("    CPU seconds   source: QEMU %s (its vCPU %s) + vmroamd %s; "
                      "destination: QEMU %s (its vCPU %s) + vmroamd %s (means, n=%d)" % (
                          c("src_qemu"), c("src_qemu_vcpu"), c("src_vmroamd"),
                          c("dst_qemu"), c("dst_qemu_vcpu"), c("dst_vmroamd"),
                          max(len(v) for v in cpu.values())))
            for side, role in (("source", "src_qemu_threads"), ("destination", "dst_qemu_threads")):
                per = {}
                for r in ok:
                    for comm, (u, sy) in r["cpus"].get(role, {}).items():
                        name = comm
                        if name.startswith("multifd"):
                            name = name.rstrip("0123456789").rstrip("_") + "_*"
                        per.setdefault(name, [0.0] * len(ok))[ok.index(r)] += u + sy
                top = sorted(per.items(), key=lambda kv: -sum(kv[1]))[:4]
                if top:
                    print("    %s QEMU's threads: %s (CPU s, means, n=%d)" % (
                        side, ", ".join("%s %.2f" % (k, mean(v)) for k, v in top),
                        len(ok)))
            for r in rs:
                if not r["ok"]:
                    print("    failed: migration %s (%s -> %s, round %s): exit %s, %s%s" % (
                        r["n"], r["src"], r["dst"], r["round"], r["rc"],
                        r.get("state", "no summary"),
                        ": " + r["reason"] if r.get("reason") else ""))
                if r["check"] != "ok":
                    print("    checker: after migration %s (%s -> %s): %s: %s" % (
                        r["n"], r["src"], r["dst"], r["check"],
                        r["line"] or "no status line"))
            means[shape, mode] = mean([r["total"] for r in ok])
            shrink.setdefault(mode, []).extend(
                r["wire_mb"] / r["in_mb"] for r in ok if r.get("in_mb"))
    for shape, words in (("1 Gbit/s", "at 1 Gbit/s"), ("unshaped", "unshaped")):
        a, p = means.get((shape, "auto")), means.get((shape, "plain"))
        print("channel auto / plain, total time %s: %s" % (
            words, "%.2f" % (a / p) if a and p else "n/a (a mode has no successful migration)"))
    if shrink.get("auto"):
        # Were the link all that limits both paths, time would follow the
        # bytes on the wire: no ratio of total times can go below this.
        print("channel auto / plain at best, were the link the only limit: %.2f "
              "(auto's wire bytes / QEMU's bytes, mean of n=%d)" % (
                  mean(shrink["auto"]), len(shrink["auto"])))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
