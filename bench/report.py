#!/usr/bin/env python3
"""Writes the benchmark table of docs/bench.md from make bench's figures.

    bench/report.py [RESULTS_JSON [DOC]]

RESULTS_JSON (default build/bench/results.json) is what bench/bench.py
writes: one flat object, metric name -> value. The table replaces whatever
is between the two marker lines of DOC (default docs/bench.md); the rest of
DOC is left as it is, so the analysis around the table is written by hand
and the figures never are. The table says when the run was (RESULTS_JSON's
modification time, UTC), and, from spread.json beside RESULTS_JSON if there
is one (metric -> [min, max]), the range over make bench's runs of each
figure that differed between them. bench.py runs this at the end of a whole run.

A row is metric, what, value. What a metric means is said here, once
(METRICS); a metric bench.py measured but this list does not describe still
gets its row, and a warning, so that nothing measured goes unshown."""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench table: begin -->"
END = "<!-- bench table: end -->"

# (metric, what it measures), in the order of the table. "Instructions" are
# guest instructions (rdtsc under -icount shift=0); the net.* and dtx.*
# times also count node 0 waiting, in real time, for the other nodes.
METRICS = [
    ("ipc.null_rtt.instr",
     "null synchronous round trip between two address spaces, instructions "
     "(median of 10,000)"),
    ("ipc.async.instr_per_req",
     "pipelined asynchronous requests, 64 in flight, "
     "instructions per request"),
    ("ipc.rtt_4k.instr",
     "round trip with 4 KiB in the request, instructions (median)"),
    ("ipc.null_rtt_nostamp.instr",
     "null round trip with the transaction stamp compiled out, instructions"),
    ("ipc.stamp_overhead.ratio",
     "null round trip with the transaction stamp over without it"),
    ("tm.commit_1pc.instr",
     "local commit, one volatile participant (one phase), instructions"),
    ("tm.commit_1pc.msgs",
     "requests completed on the node's queues during that commit"),
    ("tm.commit_2pc.instr",
     "local commit, one recoverable participant (two phases), instructions"),
    ("tm.commit_2pc.msgs",
     "requests completed on the node's queues during that commit"),
    ("tm.cleanup_local.instr",
     "from `qs_kill` of a client to its breadcrumb freed, instructions"),
    ("rvm.flush.instr_per_tx",
     "RVM, TPC-A-like transaction, flush commit, "
     "instructions per transaction"),
    ("rvm.flush.disk_writes_per_tx",
     "disk writes per flush-commit transaction (and one cache flush)"),
    ("rvm.noflush.instr_per_tx",
     "the same, no-flush commits and one `rvm_flush` at the end, "
     "instructions per transaction"),
    ("rvm.noflush.disk_writes_per_tx",
     "disk writes per no-flush transaction"),
    ("rvm.vista.instr_per_tx",
     "the same transaction in Vista mode (persistent memory), "
     "instructions per transaction"),
    ("rvm.vista.disk_writes_per_tx", "disk writes per Vista transaction"),
    ("rvm.truncate.instr_per_kb",
     "truncation of the no-flush run's log, instructions per KiB of it "
     "(with the disk server waiting for QEMU's host I/O)"),
    ("rvm.truncate.disk_ios_per_kb",
     "disk requests (reads, writes, cache flushes) of that truncation, "
     "per KiB of log"),
    ("rvm.truncate.sectors_per_kb",
     "sectors it read and wrote, per KiB of log"),
    ("rvm.flush_over_vista.ratio",
     "flush commit over Vista, instructions per transaction"),
    ("rvm.flush_disk.instr_per_tx",
     "flush commit again, on a disk that completes 200 requests a second "
     "(QEMU's throttling: 5 ms a request, about 10 ms a commit, as a "
     "7,200 rpm disk), instructions per transaction (the wait included)"),
    ("rvm.flush_over_vista_disk.ratio",
     "that flush commit over Vista (Rio Vista: about 2,000 times less "
     "than RVM on a disk)"),
    ("net.remote_rtt.instr",
     "null remote round trip, `qs_call` on `echo@1` (median of 2,000)"),
    ("net.udp_echo_rtt.instr",
     "lwIP UDP echo to node 1, timed inside the CM (median of 2,000)"),
    ("net.udp_echo.lost", "UDP echoes that did not come back"),
    ("net.remote_rtt.client_node_instr",
     "instructions a remote round trip runs on the client's node (its CPU "
     "busy, not halted; mean, with the warm-up)"),
    ("net.remote_rtt.server_node_instr",
     "instructions it runs on the serving node (mean)"),
    ("net.udp_echo.client_node_instr",
     "instructions a UDP echo runs on the node that sends it (mean)"),
    ("net.udp_echo.server_node_instr",
     "instructions it runs on the node that echoes (mean)"),
    ("net.remote_over_udp.ratio", "remote round trip over UDP echo"),
    ("net.remote_async.instr_per_req",
     "pipelined remote requests, 64 in flight, per request"),
    ("net.remote_async.client_node_instr_per_req",
     "of which instructions run on the client's node (its CPU busy, "
     "not halted), per request"),
    ("net.remote_async.server_node_instr_per_req",
     "instructions run on the serving node, per request"),
    ("net.remote.errors",
     "remote requests that failed (the bench stops if any)"),
    ("net.remote.retransmits",
     "remote requests sent again (lost, or refused by a full queue)"),
]
for _shape, _what in (
        ("volatile3", "3 nodes, windows on `wm@1` and `wm@2`: one phase"),
        ("readonly", "a file written on `fs@1`, one read on `fs@2` "
                     "(read-only): two phases"),
        ("recov3", "a file written on `fs`, `fs@1` and `fs@2`: two phases")):
    METRICS += [
        ("dtx.%s.commit_instr" % _shape,
         "%s; `qs_tx_commit` on node 0 (median of 20)" % _what),
        ("dtx.%s.msgs" % _shape,
         "TM-to-TM requests and their replies per commit, all nodes"),
        ("dtx.%s.forces" % _shape,
         "forced log writes per commit, all nodes: syncs of each node's "
         "log (log manager) and of its file server's own RVM log"),
        ("dtx.%s.tm_forces" % _shape, "force requests of the TMs"),
    ]
METRICS += [
    ("dtx.cleanup_3node.instr",
     "from the kill of a `chain -hold` to `fs@1` and `wm@2` clean, "
     "polls included (median of 5)"),
    ("dtx.orphan_stop.ms",
     "an orphan: node 1 loops for node 0's transaction, asking "
     "`qs_tx_alive` each turn; from node 0's abort until the loop's answer "
     "is back (median of 5; node 0's clock; target: within 1 s)"),
    ("dtx.group.forces_per_commit_node",
     "group commit: 8 clients on each of 3 nodes, each commit writing on "
     "its own node's fs and one other's; for each node, its forced log "
     "writes over the commits it took part in: the worst node's; on the "
     "emulated disk, whose write and sync cost next to nothing (target: "
     "0.5 or fewer)"),
    ("dtx.group.commits_per_s",
     "commits per second of all three nodes' clients in that run "
     "(node 0's clock, which runs on in real time while it waits)"),
    ("dtx.group_disk.forces_per_commit_node",
     "the same on disks that complete 50 requests a second (QEMU's "
     "throttling.iops-total), whose syncs take time as a real disk's "
     "do (target: 0.5 or fewer)"),
    ("dtx.group_disk.commits_per_s", "commits per second in that run"),
]
WHAT = dict(METRICS)
assert len(WHAT) == len(METRICS), "a metric described twice"


def value(v):
    """1953 -> 1,953; 1.0 -> 1; 1.016 -> 1.016."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return "{:,}".format(v)
    return "{:,}".format(round(v, 4))


def table(results, spread=None):
    """The markdown table of RESULTS (metric -> value), described metrics
    first in METRICS's order, then any others by name; SPREAD (metric ->
    [min, max] over the runs) adds the range where the runs differed."""
    spread = spread or {}
    keys = [k for k, _ in METRICS if k in results]
    keys += sorted(k for k in results if k not in WHAT)
    lines = ["| metric | what | value | runs' range |",
             "| --- | --- | ---: | ---: |"]
    for k in keys:
        what = WHAT.get(k, "(not described in `bench/report.py`)")
        rng = spread.get(k)
        lines.append("| `%s` | %s | %s | %s |" % (
            k, what, value(results[k]),
            "%s to %s" % (value(rng[0]), value(rng[1])) if rng else ""))
    return lines


def rewrite(doc_text, results, source, when, spread=None):
    """DOC_TEXT with the lines between the markers replaced by the table of
    the run of WHEN (seconds since the epoch). Raises ValueError if the
    markers are missing or out of order."""
    lines = doc_text.split("\n")
    try:
        b = lines.index(BEGIN)
        e = lines.index(END, b + 1)
    except ValueError:
        raise ValueError("no %r line followed by a %r line" % (BEGIN, END))
    body = ["", "Written by `make bench` (`bench/report.py`) from `%s`, "
            "of the run of %s." % (source, time.strftime(
                "%Y-%m-%d %H:%M UTC", time.gmtime(when))), ""] + \
        table(results, spread) + [""]
    return "\n".join(lines[:b + 1] + body + lines[e:])


def shown(path):
    """PATH relative to the top of the tree if it is in it."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return path if rel.startswith("..") else rel


def main(argv):
    if len(argv) > 2 or argv[:1] in (["-h"], ["--help"]):
        sys.exit("usage: report.py [RESULTS_JSON [DOC]]")
    results_path = argv[0] if argv else \
        os.path.join(ROOT, "build", "bench", "results.json")
    doc = argv[1] if len(argv) > 1 else os.path.join(ROOT, "docs", "bench.md")
    try:
        with open(results_path) as f:
            results = json.load(f)
        when = os.path.getmtime(results_path)  # the run that wrote it
        spread_path = os.path.join(os.path.dirname(results_path),
                                   "spread.json")
        spread = {}
        if os.path.exists(spread_path):
            with open(spread_path) as f:
                spread = json.load(f)
        with open(doc) as f:
            text = f.read()
    except (OSError, ValueError) as e:
        sys.exit("report: %s" % e)
    if not isinstance(results, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in results.values()):
        sys.exit("report: %s is not an object of metric -> number"
                 % results_path)
    if not isinstance(spread, dict) or not all(
            isinstance(v, list) and len(v) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool)
                for x in v) for v in spread.values()):
        sys.exit("report: %s is not an object of metric -> [min, max]"
                 % spread_path)
    for k in sorted(results):
        if k not in WHAT:
            print("report: %s has no description in bench/report.py" % k,
                  file=sys.stderr)
    try:
        new = rewrite(text, results, shown(results_path), when, spread)
    except ValueError as e:
        sys.exit("report: %s: %s" % (doc, e))
    if new != text:
        with open(doc, "w") as f:
            f.write(new)
    print("report: wrote the table of %s" % shown(doc))


if __name__ == "__main__":
    main(sys.argv[1:])
