#!/usr/bin/env python3
"""make bench: boots the ISO (and the one with the transaction stamp compiled
out) under QEMU's -icount shift=0, where the guest's rdtsc counts executed
instructions, so every figure is exactly repeatable. The guest program
`bench` prints "bench: METRIC VALUE" lines and powers off. The network
figures come from two such nodes on a vde LAN, started by the qsnet package
(tools/qsnet, `up --icount`) with their state in build/bench/net, where
`netbench` on node 0 does the same. The distributed-transaction figures
come from three nodes booted the same way with bench-dtx.conf (state in
build/bench/dtx, fresh disks each run), where `dtxbench` on node 0 commits
transaction trees over them, then has clients on all three nodes commit at
once (group commit). The rvm, net and dtx parts, whose figures include
real time, run QS_BENCH_REPEATS times (3): each figure is the median run's,
and build/bench/spread.json holds [min, max] of those that differed. Prints
a table and writes build/bench/results.json with flat metric names.

    bench/bench.py ISO NOSTAMP_ISO                  everything (make bench)
    bench/bench.py --only PART ISO NOSTAMP_ISO      one part: ipc (with the
        transaction figures of one node), rvm, net or dtx; while developing"""
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qsnet  # noqa: E402
LINE = re.compile(r"^bench: (\S+) (\d+)\s*$", re.M)
TIMEOUT = 1200  # seconds of host time; TCG on a busy machine is slow


def run(iso, conf, storage=None, disk_iops=None):
    """Boots ISO with CONF, the serial port on stdout; STORAGE (a
    directory) adds a fresh IDE disk and persistent memory there, as qsnet
    gives every node, the disk throttled to DISK_IOPS requests a second if
    given."""
    disk = pmem = None
    if storage:
        disk, pmem = qsnet.make_storage(storage, fresh=True)
    cmd = qsnet.qemu_argv(iso, disk=disk, pmem=pmem,
                          boot_args=[("conf", conf)], icount=True,
                          disk_iops=disk_iops)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                         stdin=subprocess.DEVNULL).stdout
    if "bench: done" not in out:
        sys.exit("bench: %s did not finish:\n%s" % (iso, out[-2000:]))
    return {k: int(v) for k, v in LINE.findall(out)}


def run_net(iso):
    """Boots two nodes with bench-net.conf under -icount shift=0 on a vde
    LAN; netbench on node 0 measures and powers node 0 off, then the rest
    goes down. Returns node 0's figures and their ratio; exits if a
    remote request failed."""
    cl = qsnet.Cluster(os.path.join(ROOT, "build", "bench", "net"), iso)
    cl.down()  # what an interrupted run left
    try:
        cl.up(2, conf="bench-net.conf", icount=True, wait=False)
        try:
            cl.wait_log(0, r"^bench: done", timeout=TIMEOUT)
        except qsnet.QsnetError as e:
            sys.exit("bench: the network benchmark did not finish: %s" % e)
        out = cl.log(0)
    finally:
        cl.down()
    net = {k: int(v) for k, v in LINE.findall(out)}
    if net["net.remote.errors"]:
        sys.exit("bench: %d remote requests failed" % net["net.remote.errors"])
    net["net.remote_over_udp.ratio"] = round(
        net["net.remote_rtt.instr"] / net["net.udp_echo_rtt.instr"], 2)
    return net


# The group-commit row again on disks that complete DISK_IOPS requests a
# second (QEMU's throttling): an emulated disk writes and syncs at next to
# no cost, so a flush ends before another commit can reach its force, and
# nothing is ever shared; a real disk's sync takes milliseconds.
DISK_IOPS = 50


def dtx_boot(iso, state, what, **up_args):
    """Boots three nodes with bench-dtx.conf under -icount shift=0 on a vde
    LAN, each with a fresh disk in build/bench/STATE, until node 0 says
    "bench: done" (or an error); returns node 0's figures."""
    state = os.path.join(ROOT, "build", "bench", state)
    cl = qsnet.Cluster(state, iso)
    cl.down()  # what an interrupted run left
    shutil.rmtree(state, ignore_errors=True)  # fresh disks: comparable runs
    try:
        cl.up(3, conf="bench-dtx.conf", icount=True, wait=False, **up_args)
        try:
            cl.wait_log(0, r"^bench: (done|error: .*)$", timeout=TIMEOUT)
        except qsnet.QsnetError as e:
            sys.exit("bench: the %s did not finish: %s" % (what, e))
        out = cl.log(0)
    finally:
        cl.down()
    err = re.search(r"^bench: error: .*$", out, re.M)
    if err or not re.search(r"^bench: done", out, re.M):
        sys.exit("bench: the %s failed: %s\nnode 0's log tail:\n%s"
                 % (what, err.group(0) if err else "?", out[-2000:]))
    return {k: int(v) for k, v in LINE.findall(out)}


def run_dtx_group_disk(iso):
    """The three nodes again, on throttled disks, running only dtxbench's
    group-commit clients (boot argument dtxbench=group)."""
    raw = dtx_boot(iso, "dtx-disk", "group-commit run on slow disks",
                   args={"dtxbench": "group"}, disk_iops=DISK_IOPS)
    return {"dtx.group_disk.forces_per_commit_node":
            raw["dtx.group.forces_per_commit_node_x100"] / 100,
            "dtx.group_disk.commits_per_s": raw["dtx.group.commits_per_s"]}


def run_dtx(iso):
    """dtxbench on node 0 measures the commit of three tree shapes, the
    clean-up after a kill and group commit (clients on all three nodes at
    once), and powers node 0 off. Returns node 0's figures, the per-commit
    averages (printed x100) divided back."""
    raw = dtx_boot(iso, "dtx", "distributed-transaction benchmark")
    results = {}
    for shape in ("volatile3", "readonly", "recov3"):
        for m in ("msgs", "forces", "tm_forces"):
            results["dtx.%s.%s" % (shape, m)] = \
                raw["dtx.%s.%s_x100" % (shape, m)] / 100
        key = "dtx.%s.commit_instr" % shape
        results[key] = raw[key]
    results["dtx.cleanup_3node.instr"] = raw["dtx.cleanup_3node.instr"]
    results["dtx.orphan_stop.ms"] = raw["dtx.orphan_stop.ms"]
    results["dtx.group.forces_per_commit_node"] = \
        raw["dtx.group.forces_per_commit_node_x100"] / 100
    results["dtx.group.commits_per_s"] = raw["dtx.group.commits_per_s"]
    return results


def run_ipc(iso, nostamp_iso):
    """One node: IPC and local transaction figures, with and without the
    transaction stamp."""
    with_stamp = run(iso, "bench.conf")
    without = run(nostamp_iso, "bench-ipc.conf")
    results = dict(with_stamp)
    results["ipc.null_rtt_nostamp.instr"] = without["ipc.null_rtt.instr"]
    results["ipc.stamp_overhead.ratio"] = round(
        with_stamp["ipc.null_rtt.instr"] / without["ipc.null_rtt.instr"], 4)
    return results


def run_rvm(iso):
    results = {}
    rvm = run(iso, "bench-rvm.conf",
              storage=os.path.join(ROOT, "build", "bench", "storage"))
    for mode in ("flush", "noflush", "vista"):
        results["rvm.%s.instr_per_tx" % mode] = rvm["rvm.%s.instr_per_tx" % mode]
        results["rvm.%s.disk_writes_per_tx" % mode] = \
            rvm["rvm.%s.disk_writes_per_tx_x100" % mode] / 100
    results["rvm.truncate.instr_per_kb"] = rvm["rvm.truncate.instr_per_kb"]
    for what in ("disk_ios", "sectors"):
        results["rvm.truncate.%s_per_kb" % what] = \
            rvm["rvm.truncate.%s_per_kb_x100" % what] / 100
    results["rvm.flush_over_vista.ratio"] = round(
        rvm["rvm.flush.instr_per_tx"] / rvm["rvm.vista.instr_per_tx"], 1)
    return results


# The RVM run again on a disk that completes RVM_DISK_IOPS requests a second
# (QEMU's throttling): 5 ms a request, so a flush commit (a write and a
# cache flush) waits about 10 ms, as on a 7,200 rpm disk (4.2 ms of
# rotation on average, plus the seek). The emulated disk alone costs next
# to nothing, which hides what Vista saves (Rio Vista's comparison is with
# RVM on a real disk).
RVM_DISK_IOPS = 200


def run_rvm_disk(iso):
    rvm = run(iso, "bench-rvm.conf",
              storage=os.path.join(ROOT, "build", "bench", "storage-disk"),
              disk_iops=RVM_DISK_IOPS)
    return {"rvm.flush_disk.instr_per_tx": rvm["rvm.flush.instr_per_tx"],
            "rvm.flush_over_vista_disk.ratio": round(
                rvm["rvm.flush.instr_per_tx"] / rvm["rvm.vista.instr_per_tx"],
                1)}


PARTS = ("ipc", "rvm", "net", "dtx")


# The parts whose figures include real time run this many times: the
# table gives each figure's median and, where the runs differ, their range.
REPEATS = int(os.environ.get("QS_BENCH_REPEATS", 3))


def repeated(results, spread, run_part):
    """Runs a part REPEATS times; its medians into RESULTS, and [min, max]
    into SPREAD for the figures that differed between runs."""
    runs = [run_part() for _ in range(max(1, REPEATS))]
    for key in runs[0]:
        vals = sorted(r[key] for r in runs if key in r)
        results[key] = vals[(len(vals) - 1) // 2]  # a run's, never a mean
        if vals[0] != vals[-1]:
            spread[key] = [vals[0], vals[-1]]


def main():
    args = sys.argv[1:]
    parts = PARTS
    if args[:1] == ["--only"] and len(args) > 1:
        if args[1] not in PARTS:
            sys.exit("bench: --only takes one of %s" % ", ".join(PARTS))
        parts, args = (args[1],), args[2:]
    if len(args) != 2:
        sys.exit("usage: bench.py [--only %s] ISO NOSTAMP_ISO"
                 % "|".join(PARTS))
    iso, nostamp_iso = args
    results, spread = {}, {}
    if "ipc" in parts:  # exact: once
        results.update(run_ipc(iso, nostamp_iso))
    if "rvm" in parts:
        repeated(results, spread, lambda: run_rvm(iso))
        repeated(results, spread, lambda: run_rvm_disk(iso))
    if "net" in parts:
        repeated(results, spread, lambda: run_net(iso))
    if "dtx" in parts:
        repeated(results, spread, lambda: run_dtx(iso))
        repeated(results, spread, lambda: run_dtx_group_disk(iso))
    rows = [
        ("ipc.null_rtt.instr", "null synchronous round trip (median of 10,000)",
         "instructions"),
        ("ipc.async.instr_per_req", "pipelined asynchronous, 64 in flight",
         "instructions/request"),
        ("ipc.rtt_4k.instr", "4 KiB payload round trip (median)",
         "instructions"),
        ("ipc.null_rtt_nostamp.instr", "null round trip, stamp compiled out",
         "instructions"),
        ("ipc.stamp_overhead.ratio", "stamp overhead (with / without)",
         "ratio"),
        ("tm.commit_1pc.instr", "local commit, one volatile participant",
         "instructions"),
        ("tm.commit_1pc.msgs", "  messages in that commit", "messages"),
        ("tm.commit_2pc.instr", "local commit, one recoverable participant",
         "instructions"),
        ("tm.commit_2pc.msgs", "  messages in that commit", "messages"),
        ("tm.cleanup_local.instr", "kill of a client to its breadcrumb freed",
         "instructions"),
        ("rvm.flush.instr_per_tx", "RVM, TPC-A-like, flush commits",
         "instructions/tx"),
        ("rvm.flush.disk_writes_per_tx", "  disk writes per transaction",
         "writes/tx"),
        ("rvm.noflush.instr_per_tx", "RVM, no-flush commits (+1 flush)",
         "instructions/tx"),
        ("rvm.noflush.disk_writes_per_tx", "  disk writes per transaction",
         "writes/tx"),
        ("rvm.vista.instr_per_tx", "RVM, Vista (persistent memory)",
         "instructions/tx"),
        ("rvm.vista.disk_writes_per_tx", "  disk writes per transaction",
         "writes/tx"),
        ("rvm.truncate.instr_per_kb", "truncation, per KiB of log (disk waits)",
         "instructions/KiB"),
        ("rvm.truncate.disk_ios_per_kb", "  disk requests per KiB of log",
         "requests/KiB"),
        ("rvm.truncate.sectors_per_kb", "  sectors read and written per KiB",
         "sectors/KiB"),
        ("rvm.flush_over_vista.ratio", "flush commit cost over Vista's",
         "ratio"),
        ("rvm.flush_disk.instr_per_tx",
         "RVM flush commits, disk of %d requests/s" % RVM_DISK_IOPS,
         "instructions/tx"),
        ("rvm.flush_over_vista_disk.ratio", "  over Vista's", "ratio"),
        ("net.remote_rtt.instr", "remote null round trip, echo@1 (median)",
         "instructions"),
        ("net.remote_rtt.client_node_instr",
         "  of which run on the client's node (mean)", "instructions"),
        ("net.remote_rtt.server_node_instr",
         "  run on the server's node (mean)", "instructions"),
        ("net.udp_echo_rtt.instr", "lwIP UDP echo, timed in the CM (median)",
         "instructions"),
        ("net.udp_echo.client_node_instr",
         "  of which run on the echoing CM's node (mean)", "instructions"),
        ("net.udp_echo.server_node_instr",
         "  run on the node that echoes (mean)", "instructions"),
        ("net.remote_over_udp.ratio", "remote round trip over UDP echo",
         "ratio"),
        ("net.remote_async.instr_per_req", "pipelined remote, 64 in flight",
         "instructions/request"),
        ("net.remote_async.client_node_instr_per_req",
         "  of them run on the client's node (busy, not idle)",
         "instructions/request"),
        ("net.remote_async.server_node_instr_per_req",
         "  run on the server's node", "instructions/request"),
        ("net.remote.retransmits", "  retransmitted or refused requests",
         "requests"),
    ]
    for shape, what in (("volatile3", "3 nodes, 2 remote windows (1 phase)"),
                        ("readonly", "write fs@1, read fs@2 (read-only)"),
                        ("recov3", "write fs, fs@1, fs@2 (2 phases)")):
        rows += [
            ("dtx.%s.commit_instr" % shape, what, "instructions"),
            ("dtx.%s.msgs" % shape, "  TM-to-TM messages (with replies)",
             "messages/commit"),
            ("dtx.%s.forces" % shape, "  forced log writes, all nodes",
             "forces/commit"),
            ("dtx.%s.tm_forces" % shape, "  of them by the TMs",
             "forces/commit"),
        ]
    rows.append(("dtx.cleanup_3node.instr",
                 "kill to fs@1, wm@2 clean (with polls)", "instructions"))
    rows.append(("dtx.orphan_stop.ms",
                 "abort to an orphan's loop on node 1 stopped", "ms"))
    rows += [
        ("dtx.group.forces_per_commit_node",
         "group commit, 8 clients/node: worst node's", "forces/commit"),
        ("dtx.group.commits_per_s", "  commits of all 3 nodes", "commits/s"),
        ("dtx.group_disk.forces_per_commit_node",
         "group commit on disks of %d requests/s: worst node's" % DISK_IOPS,
         "forces/commit"),
        ("dtx.group_disk.commits_per_s", "  commits of all 3 nodes",
         "commits/s"),
    ]
    # a guest program that gave up prints no figure rather than an error:
    # make bench fails then, rather than write a table without its rows
    missing = [key for key, _, _ in rows if key not in results]
    if parts == PARTS and missing:
        sys.exit("bench: no figure for %s (see the nodes' console logs)"
                 % ", ".join(missing))
    print("%-31s %-46s %10s  %s" % ("metric", "what", "value", "unit"))
    for key, what, unit in rows:
        if key in results:
            print("%-31s %-46s %10s  %s" % (key, what, results[key], unit))
    out_dir = os.path.join(ROOT, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    # a partial run (--only) writes its own file: results.json is make
    # bench's, with every figure
    name = "results.json" if parts == PARTS else \
        "results-%s.json" % parts[0]
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    spread_name = name.replace("results", "spread")
    with open(os.path.join(out_dir, spread_name), "w") as f:
        json.dump(spread, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote build/bench/%s and %s (%d runs of rvm, net and dtx)"
          % (name, spread_name, max(1, REPEATS)))
    if parts == PARTS:  # the table of docs/bench.md, from results.json
        subprocess.check_call([os.path.join(ROOT, "bench", "report.py")])


if __name__ == "__main__":
    main()
