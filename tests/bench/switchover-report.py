#!/usr/bin/env python3
"""Figures of tests/bench/switchover.sh, from what it recorded:

  --runs FILE        one line per migration, tab-separated: n, mode, source,
                     destination, start and end of "vmroam migrate --wait"
                     (wall clock, ms), its exit status, the migration's short
                     id, then what the harness saw after it: the host the VM
                     runs on, how many hosts run it, its state there, its
                     heartbeat before, after and 2 s later, the last status
                     line
  --end MS           end of the last migration's window
  --probe FILE       labs/probe's per-datagram results (seq sent_us echoed
                     rtt_us dups) and its TCP stream's records (T seq
                     sent_us echo_us retrans)
  --ping FILE        "ping -D -i 0.01" output
  --ping-stop MS     when ping was told to stop (its last request went out
                     before)
  --migrations FILE  the Migration table (ovsdb-client transact, JSON)
  --dir DIR          chassis-N.json, private-N.json: the Chassis and
                     Chassis_Private tables read after migration N;
                     console-N.txt: the end of the guest's console then;
                     drops-N.json: the kernel's and ovs-vswitchd's drops
                     per namespace before migration N (drops-end.json
                     after the last)

Each migration owns the time from its start to the next one's start (its
pre-copy, its pause, and the settle time after it); a datagram or ping
belongs to the window it was sent in.  Before the first window is the
baseline.  Prints a table per migration and a summary per switchover mode;
the summary leaves out a migration that did not end "done" or after which
the guest stopped (its figures would be the guest's, not the switchover's).
--json OUT writes every figure for tests/integration/switchover.sh.
"""

import argparse
import json
import os
import re
import statistics
import sys

TAIL = 200          # datagrams at the end of a window that must all come back
PING_TAIL = 20      # pings likewise


def ovsdb_map(value):
    return dict(value[1]) if value and value[0] == "map" else {}


def read_probe(path):
    """The datagrams [(sent_ms, echo_ms or None)] and their further echoes
    [dups] by seq, the TCP records [(sent_ms, echo_ms or None, retrans)] by
    seq, and the probe's comment lines."""
    packets, dups, tcp, notes = [], [], [], []
    for line in open(path):
        if line.startswith("#"):
            notes.append(line[1:].strip())
            continue
        f = line.split()
        if f[0] == "T":
            _, seq, sent, echo, retrans = f
            tcp.append((int(sent) / 1000, int(echo) / 1000 if echo != "-" else None,
                        int(retrans)))
            continue
        seq, sent, echoed, rtt, dup = f
        sent_ms = int(sent) / 1000
        packets.append((sent_ms, sent_ms + int(rtt) / 1000 if echoed == "1" else None))
        dups.append(int(dup))
    return packets, dups, tcp, notes


PING_REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+) .*time=([\d.]+) ms")
PING_TOTAL = re.compile(r"^(\d+) packets transmitted")


def read_ping(path, stop_ms):
    """[(sent_ms, reply_ms or None)] by sequence.  ping prints only replies:
    a reply's send time is its arrival minus its round trip; an unanswered
    request's is interpolated between its answered neighbours, the last
    request standing at stop_ms (ping sends one every 10-14 ms here: its
    interval is a minimum, so the error is a few ms).  icmp_seq wraps at
    65536."""
    replies, last, base, transmitted = {}, None, 0, None
    for line in open(path):
        m = PING_REPLY.match(line)
        if m:
            seq = int(m.group(2)) + base
            if last is not None and seq < last - 32768:
                base += 65536
                seq += 65536
            elif last is not None and seq > last + 32768:
                seq -= 65536            # a late reply from before the wrap
            last = seq if last is None else max(last, seq)
            at = float(m.group(1)) * 1000
            replies.setdefault(seq, (at - float(m.group(3)), at))
            continue
        m = PING_TOTAL.match(line)
        if m:
            transmitted = int(m.group(1))
    if not replies:
        return []
    first = min(replies)
    n = max(transmitted or 0, max(replies))
    if n not in replies and stop_ms:
        replies[n] = (stop_ms, None)
    known = sorted(replies)
    out, k = [], 0
    for seq in range(first, n + 1):
        if seq in replies:
            out.append(replies[seq])
            continue
        while k + 1 < len(known) and known[k + 1] < seq:
            k += 1
        lo = known[k] if known[k] < seq else None
        hi = next((s for s in known[k:] if s > seq), None)
        if lo is not None and hi is not None:
            t = replies[lo][0] + (replies[hi][0] - replies[lo][0]) * (seq - lo) / (hi - lo)
        elif lo is not None:
            t = replies[lo][0] + 10 * (seq - lo)        # no stop time given
        else:
            t = replies[hi][0] - 10 * (hi - seq)
        out.append((t, None))
    return out


def window(packets, t0, t1):
    """Sent, lost, the longest time without an echo (ms) and the tail's
    echoes for the packets sent in [t0, t1)."""
    inside = [p for p in packets if t0 <= p[0] < t1]
    echoes = sorted(e for _, e in inside if e is not None)
    gap = max((b - a for a, b in zip([t0] + echoes, echoes + [t1])), default=t1 - t0)
    return inside, len(inside), sum(1 for _, e in inside if e is None), gap, echoes


def lost_after(inside, held, until=None):
    """How many of the datagrams 'inside' that were lost had been sent once
    the source's switch held the guest's packets (its "held" stamp, ms;
    None if nothing was held), and before 'until' if given: those the hold
    itself lost, where the others reached the paused guest's tap before
    it."""
    if not held:
        return None
    return sum(1 for sent, echo in inside
               if echo is None and sent >= held and (not until or sent < until))


def order(packets, dups, t0, t1):
    """For the datagrams sent in [t0, t1): how many came back more than
    once, how many came back after one sent later (reordered), and the
    longest round trip (ms), which a datagram held through the pause
    makes."""
    idx = [i for i, p in enumerate(packets) if t0 <= p[0] < t1]
    duplicated = sum(1 for i in idx if dups[i])
    reordered, first_later = 0, None
    longest = 0
    for i in reversed(idx):
        sent, echo = packets[i]
        if echo is None:
            continue
        longest = max(longest, echo - sent)
        if first_later is not None and echo > first_later:
            reordered += 1
        first_later = echo if first_later is None else min(first_later, echo)
    return duplicated, reordered, longest


def tcp_window(tcp, broken, t0, t1):
    """For the TCP records sent in [t0, t1): how many never came back, the
    longest time without an echo (ms), the segments retransmitted meanwhile
    and whether the connection broke then (None without a TCP stream)."""
    inside = [(sent, echo) for sent, echo, _ in tcp if t0 <= sent < t1]
    if not tcp or not inside:
        return None
    _, sent, lost, gap, _ = window(inside, t0, t1)
    retrans = [r for s, _, r in tcp if t0 <= s < t1]
    after = [r for s, _, r in tcp if s >= t1]
    return dict(sent=sent, lost=lost, stall_ms=round(gap, 1),
                retrans=(after[0] if after else retrans[-1]) - retrans[0],
                broken=broken is not None and t0 <= broken < t1)


def tcp_broken_at(notes):
    for note in notes:
        m = re.match(r"tcp broken at (\d+)", note)
        if m:
            return int(m.group(1)) / 1000
    return None


def socket_drops(notes):
    """What the probe's own socket dropped (its echoes lost on arrival, not
    by the network), or None if the probe did not say."""
    for note in notes:
        m = re.search(r"socket drops (-?\d+)", note)
        if m and int(m.group(1)) >= 0:
            return int(m.group(1))
    return None


def read_drops(path):
    """{namespace/where: count} from a drops file: the packet sockets, each
    interface and ovs-vswitchd's drop counters ("ovs:NAME"), or {} if there
    is none."""
    if not os.path.exists(path):
        return {}
    out = {}
    for ns, d in json.load(open(path)).items():
        out["%s/packet-sockets" % ns] = d["packet_sockets"]
        for iface, n in d["ifaces"].items():
            out["%s/%s" % (ns, iface)] = n
        for counter, n in d.get("ovs", {}).items():
            out["%s/ovs:%s" % (ns, counter)] = n
    return out


def drops_between(before, after):
    """What was dropped between two read_drops(), where it was: the packet
    sockets' total, the interfaces' total, ovs-vswitchd's total, and each
    place with a drop."""
    delta = {k: after[k] - before.get(k, 0) for k in after
             if after[k] > before.get(k, 0)}
    sockets = sum(n for k, n in delta.items() if k.endswith("/packet-sockets"))
    ovs = sum(n for k, n in delta.items() if "/ovs:" in k)
    return sockets, sum(delta.values()) - sockets - ovs, ovs, delta


def send_gap(inside):
    sent = [s for s, _ in inside]
    return max((b - a for a, b in zip(sent, sent[1:])), default=0)


def flows_installed(chassis_file, private_file, generation, moved):
    """When the last host that is up had the migration's generation in its
    flows, minus when the records moved; None when a host never got there,
    "overwritten" when a later generation hid the time."""
    if (generation is None or moved is None or not os.path.exists(chassis_file)
            or not os.path.exists(private_file)):
        return None
    up = {ch["name"] for ch in json.load(open(chassis_file))[0]["rows"]
          if ch.get("state") == "up"}
    last = None
    private = [ch for ch in json.load(open(private_file))[0]["rows"] if ch["name"] in up]
    if {ch["name"] for ch in private} != up:
        return None
    for ch in private:
        if ch["generation_applied"] < generation:
            return None
        if ch["generation_applied"] > generation:
            return "overwritten"
        at = ovsdb_map(ch["external_ids"]).get("generation-applied-at")
        if at is None:
            return None
        last = max(last or 0, int(at))
    return None if last is None else last - moved


def read_runs(path, end_ms):
    runs = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        runs.append(dict(
            n=int(f[0]), mode=f[1], source=f[2], destination=f[3], t0=int(f[4]),
            t1=int(f[5]), rc=int(f[6]), id=f[7], host_after=f[8],
            copies=int(f[9] or 0), domstate=f[10], hb_before=int(f[11] or 0),
            hb_after=int(f[12] or 0), hb_later=int(f[13] or 0),
            status_line=f[14] if len(f) > 14 else ""))
    for r, nxt in zip(runs, runs[1:] + [None]):
        r["t_end"] = nxt["t0"] if nxt else end_ms
    return runs


def analyse(args):
    rate = args.rate
    packets, dups, tcp, notes = read_probe(args.probe)
    broken = tcp_broken_at(notes)
    pings = read_ping(args.ping, args.ping_stop)
    rows = json.load(open(args.migrations))[0]["rows"]
    by_id = {r["_uuid"][1][:8]: r for r in rows}
    runs = read_runs(args.runs, args.end)

    first = runs[0]["t0"] if runs else args.end
    start = packets[0][0] if packets else first
    # The baseline skips the probe's first second (ARP, flows warming up).
    base, n_base, lost_base, gap_base, _ = window(packets, start + 1000, first)
    _, n_pbase, lost_pbase, _, _ = window(pings, start + 1000, first)
    stop = packets[-1][0] if packets else start
    probe = dict(sent=len(packets), seconds=(stop - start) / 1000,
                 rate=len(packets) / ((stop - start) / 1000) if stop > start else 0,
                 max_send_gap_ms=send_gap(packets), notes=notes,
                 socket_drops=socket_drops(notes),
                 baseline_sent=n_base, baseline_lost=lost_base,
                 baseline_gap_ms=gap_base, baseline_ping_sent=n_pbase,
                 baseline_ping_lost=lost_pbase, ping_sent=len(pings),
                 ping_rate=(len(pings) / ((pings[-1][0] - pings[0][0]) / 1000)
                            if len(pings) > 1 else 0))

    for r in runs:
        row = by_id.get(r["id"]) if r["id"] else None
        stats = ovsdb_map(row["stats"]) if row else {}
        ts = ovsdb_map(row["timestamps"]) if row else {}
        inside, sent, lost, gap, echoes = window(packets, r["t0"], r["t_end"])
        tail = inside[-TAIL:]
        duplicated, reordered, longest_rtt = order(packets, dups, r["t0"], r["t_end"])
        stream = tcp_window(tcp, broken, r["t0"], r["t_end"])
        pin, psent, plost, pgap, _ = window(pings, r["t0"], r["t_end"])
        ptail = pin[-PING_TAIL:]
        downtime = stats.get("downtime_ms")
        r.update(
            state=row["state"] if row else "missing",
            switchover=ovsdb_map(row["options"]).get("switchover") if row else None,
            total_ms=r["t1"] - r["t0"], downtime_ms=downtime,
            generation=stats.get("generation"), records_moved=ts.get("records-moved"),
            port_ready=ts.get("port-ready"), activated=ts.get("activated"),
            held=ts.get("held"), paused=ts.get("paused"),
            held_dropped=stats.get("held_dropped"),
            udp_sent=sent, udp_lost=lost, udp_gap_ms=round(gap, 1),
            lost_after_hold=lost_after(inside, ts.get("held")),
            lost_at_pause=lost_after(inside, ts.get("held"),
                                     ts.get("paused") and ts["paused"] + 100),
            udp_dup=duplicated, udp_reordered=reordered,
            udp_max_rtt_ms=round(longest_rtt, 1),
            tcp_lost=stream["lost"] if stream else None,
            tcp_stall_ms=stream["stall_ms"] if stream else None,
            tcp_retrans=stream["retrans"] if stream else None,
            tcp_broken=stream["broken"] if stream else None,
            udp_send_gap_ms=round(send_gap(inside), 1),
            udp_rate=sent / ((r["t_end"] - r["t0"]) / 1000) if r["t_end"] > r["t0"] else 0,
            beyond_pause=(max(0, lost - round(downtime * rate / 1000))
                          if downtime is not None else None),
            ping_sent=psent, ping_lost=plost, ping_gap_ms=round(pgap, 1),
            tail_sent=len(tail), tail_echoed=sum(1 for _, e in tail if e is not None),
            ping_tail_sent=len(ptail),
            ping_tail_echoed=sum(1 for _, e in ptail if e is not None))
        flows = flows_installed(os.path.join(args.dir, "chassis-%d.json" % r["n"]),
                                os.path.join(args.dir, "private-%d.json" % r["n"]),
                                r["generation"], r["records_moved"])
        r["flows_ms"] = flows if isinstance(flows, int) else None
        r["flows_note"] = flows if isinstance(flows, str) else None
        r["ready_ahead_ms"] = (r["records_moved"] - r["port_ready"]
                               if r["port_ready"] and r["records_moved"] else None)
        drops_next = ("drops-%d.json" % (r["n"] + 1)
                      if any(o["n"] == r["n"] + 1 for o in runs) else "drops-end.json")
        before = read_drops(os.path.join(args.dir, "drops-%d.json" % r["n"]))
        after = read_drops(os.path.join(args.dir, drops_next))
        if before and after:
            (r["drops_sockets"], r["drops_ifaces"], r["drops_ovs"],
             r["drops_where"]) = drops_between(
                before, after)
        else:
            r["drops_sockets"] = r["drops_ifaces"] = r["drops_ovs"] = None
            r["drops_where"] = None
        r["passes"] = stats.get("iteration")
        r["guest_ran_on"] = 0 < r["hb_before"] < r["hb_after"] < r["hb_later"]
        r["checkers_ok"] = r["guest_ran_on"] and checkers_clean(r["status_line"])
        r["in_summary"] = r["rc"] == 0 and r["state"] == "done" and r["guest_ran_on"]
        console = os.path.join(args.dir, "console-%d.txt" % r["n"])
        r["console"] = (open(console).read().splitlines()[-6:]
                        if os.path.exists(console) else [])
    return probe, runs


FIGURES = [  # key, summary label
    ("total_ms", "migrate --wait, ms"),
    ("downtime_ms", "guest pause (libvirt downtime), ms"),
    ("udp_lost", "UDP datagrams lost"),
    ("beyond_pause", "UDP lost beyond the pause"),
    ("lost_after_hold", "UDP lost once held"),
    ("held_dropped", "held packets the destination's port dropped"),
    ("udp_dup", "UDP datagrams duplicated"),
    ("udp_reordered", "UDP datagrams reordered"),
    ("udp_gap_ms", "longest UDP reply gap, ms"),
    ("udp_max_rtt_ms", "longest UDP round trip, ms"),
    ("tcp_stall_ms", "longest TCP echo stall, ms"),
    ("tcp_retrans", "TCP segments retransmitted"),
    ("ping_lost", "pings lost"),
    ("ping_gap_ms", "longest ping reply gap, ms"),
    ("drops_sockets", "kernel drops: packet sockets"),
    ("drops_ifaces", "kernel drops: interfaces"),
    ("drops_ovs", "ovs-vswitchd drops (pipeline, datapath)"),
    ("flows_ms", "records moved -> all flows installed, ms"),
    ("ready_ahead_ms", "destination port ready before that, ms"),
]


def fmt(v, width):
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float):
        return ("%.0f" % v).rjust(width)
    return str(v).rjust(width)


COLUMNS = [  # key, two header lines
    ("total_ms", "total", "ms"), ("passes", "passes", ""), ("downtime_ms", "pause", "ms"),
    ("udp_lost", "udp", "lost"), ("beyond_pause", "beyond", "pause"),
    ("lost_after_hold", "once", "held"),
    ("udp_dup", "udp", "dup"), ("udp_reordered", "udp", "reord"),
    ("udp_gap_ms", "udp", "gap ms"), ("udp_max_rtt_ms", "udp", "rtt ms"),
    ("tcp_stall_ms", "tcp", "stall"), ("tcp_retrans", "tcp", "retx"),
    ("ping_lost", "ping", "lost"), ("ping_gap_ms", "ping", "gap ms"),
    ("drops_sockets", "sock", "drops"), ("drops_ifaces", "iface", "drops"),
    ("drops_ovs", "ovs", "drops"),
    ("flows_ms", "flows", "ms"),
]


def print_table(runs):
    for line in (1, 2):
        print("  %3s %-10s %-9s %s %s" % (
            "#" if line == 1 else "", "mode" if line == 1 else "",
            "move" if line == 1 else "",
            " ".join(fmt(c[line], 6) for c in COLUMNS), "after" if line == 1 else ""))
    for r in runs:
        after = []
        if r["rc"] != 0 or r["state"] != "done":
            after.append("migration %s (exit %d)" % (r["state"], r["rc"]))
        if r["host_after"] != r["destination"] or r["copies"] != 1:
            after.append("runs on %s, %d copies" % (r["host_after"] or "?", r["copies"]))
        if r["tail_echoed"] < r["tail_sent"]:
            after.append("%d of the last %d not echoed" % (
                r["tail_sent"] - r["tail_echoed"], r["tail_sent"]))
        if r["tcp_broken"]:
            after.append("TCP connection broken")
        if r["flows_note"]:
            after.append("flows: " + r["flows_note"])
        if r["drops_where"]:
            after.append("dropped: " + ", ".join(
                "%s %d" % kv for kv in sorted(r["drops_where"].items())))
        if r["udp_send_gap_ms"] > 50:
            after.append("probe stalled %.0f ms" % r["udp_send_gap_ms"])
        if not r["guest_ran_on"]:
            after.append("the guest stopped (heartbeat %d, then %s, %s), booted again" % (
                r["hb_before"], r["hb_after"] or "none", r["hb_later"] or "none"))
        elif not r["checkers_ok"]:
            after.append("guest: " + r["status_line"])
        print("  %3d %-10s %-9s %s %s" % (
            r["n"], r["mode"], "%s>%s" % (r["source"], r["destination"]),
            " ".join(fmt(r[c[0]], 6) for c in COLUMNS),
            "; ".join(after) if after else "ok"))


def checkers_clean(line):
    return "memcheck ok" in line and "diskcheck ok" in line


def summary(runs):
    out = {}
    for mode in sorted({r["mode"] for r in runs}, key=lambda m: m != "resume"):
        rs = [r for r in runs if r["mode"] == mode and r["in_summary"]]
        out[mode] = {"migrations": len(rs),
                     "left_out": sum(1 for r in runs
                                     if r["mode"] == mode and not r["in_summary"]),
                     "announced": sum(1 for r in rs if r["activated"]),
                     "all": sum(1 for r in runs if r["mode"] == mode),
                     "guest_stopped": sum(1 for r in runs
                                          if r["mode"] == mode and not r["guest_ran_on"]),
                     "tcp_broken": sum(1 for r in rs if r["tcp_broken"])}
        for key, _ in FIGURES:
            vals = [r[key] for r in rs if r[key] is not None]
            out[mode][key] = (dict(mean=statistics.mean(vals), p50=statistics.median(vals),
                                   max=max(vals), n=len(vals)) if vals else None)
    return out


COUNTS = [  # label, key, out of which key
    ("announcement heard on the destination", "announced", "migrations"),
    ("TCP connection broken", "tcp_broken", "migrations"),
    ("guest stopped after it (left out)", "guest_stopped", "all"),
]


def print_summary(summ):
    """Each figure with the number of migrations it is over (n): those
    that had it among the migrations in the summary."""
    modes = list(summ)
    print("  %-42s %s" % ("", "".join(
        "%-32s" % ("%s (%d, %d left out)" % (m, summ[m]["migrations"], summ[m]["left_out"]))
        for m in modes)))
    print("  %-42s %s" % ("", "".join("%-32s" % "mean / p50 / max (n)" for _ in modes)))
    for key, label in FIGURES:
        cells = []
        for m in modes:
            s = summ[m][key]
            cells.append("%-32s" % ("- (n=0)" if not s else "%.0f / %.0f / %.0f (n=%d)" % (
                s["mean"], s["p50"], s["max"], s["n"])))
        print("  %-42s %s" % (label, "".join(cells)))
    for label, key, of in COUNTS:
        print("  %-42s %s" % (label, "".join(
            "%-32s" % ("%d of %d" % (summ[m][key], summ[m][of])) for m in modes)))


def main():
    p = argparse.ArgumentParser()
    for a in ("--runs", "--probe", "--ping", "--migrations", "--dir"):
        p.add_argument(a, required=True)
    p.add_argument("--end", type=int, required=True)
    p.add_argument("--ping-stop", type=int)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--json")
    args = p.parse_args()
    probe, runs = analyse(args)
    print("probe: %d datagrams in %.1f s: %.1f/s, longest send gap %.0f ms, "
          "echoes its socket dropped %s; %d pings: %.1f/s" % (
              probe["sent"], probe["seconds"], probe["rate"],
              probe["max_send_gap_ms"],
              "?" if probe["socket_drops"] is None else probe["socket_drops"],
              probe["ping_sent"], probe["ping_rate"]))
    print("before the first migration: %d of %d datagrams lost, %d of %d pings; "
          "longest UDP reply gap %.0f ms" % (
              probe["baseline_lost"], probe["baseline_sent"], probe["baseline_ping_lost"],
              probe["baseline_ping_sent"], probe["baseline_gap_ms"]))
    print("per migration (beyond pause: UDP lost minus the pause at %g datagrams/ms, "
          "floor 0):" % (args.rate / 1000))
    print_table(runs)
    for r in runs:
        if not r["guest_ran_on"]:
            print("  the guest's console after migration %d (%s passes):" % (
                r["n"], r["passes"] if r["passes"] is not None else "?"))
            for line in r["console"]:
                print("    " + line)
    summ = summary(runs)
    left_out = [str(r["n"]) for r in runs if not r["in_summary"]]
    if left_out:
        print("left out of the summary: migration %s" % ", ".join(left_out))
    print("per switchover mode:")
    print_summary(summ)
    if args.json:
        json.dump(dict(probe=probe, migrations=runs, summary=summ),
                  open(args.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
