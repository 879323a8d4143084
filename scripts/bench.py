#!/usr/bin/env python3
"""make bench: boots the ISO (and the one with the transaction stamp compiled
out) under QEMU's -icount shift=0, where the guest's rdtsc counts executed
instructions, so every figure is exactly repeatable. The guest program
`bench` prints "bench: METRIC VALUE" lines and powers off. The network
figures come from two such nodes on a vde LAN, started by boot/qsnet (up
--icount) with their state in build/bench/net, where `netbench` on node 0
does the same. Prints a table and writes build/bench/results.json with flat
metric names."""
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"^bench: (\S+) (\d+)\s*$", re.M)
TIMEOUT = 1200  # seconds of host time; TCG on a busy machine is slow


def run(iso, conf, storage=None):
    """Boots ISO with CONF; STORAGE (a directory) adds a fresh IDE disk and
    persistent memory there, as boot/qsnet gives every node."""
    cmd = ["qemu-system-i386", "-cdrom", iso]
    if storage:
        os.makedirs(storage, exist_ok=True)
        disk, pmem = (os.path.join(storage, n) for n in ("disk.img", "pmem.img"))
        for path, size in ((disk, 64 << 20), (pmem, 16 << 20)):
            with open(path, "wb") as f:
                f.truncate(size)
        cmd += ["-drive", "file=%s,format=raw,if=ide,index=0" % disk,
                "-object", "memory-backend-file,id=pmem,share=on,mem-path=%s,"
                "size=%d" % (pmem, 16 << 20),
                "-device", "ivshmem-plain,memdev=pmem"]
    cmd += "-m 256 -serial stdio -display none -nic none -monitor none".split()
    cmd += "-no-reboot -icount shift=0".split()
    cmd += ["-fw_cfg", "name=opt/qs/conf,string=%s" % conf]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                         stdin=subprocess.DEVNULL).stdout
    if "bench: done" not in out:
        sys.exit("bench: %s did not finish:\n%s" % (iso, out[-2000:]))
    return {k: int(v) for k, v in LINE.findall(out)}


def load_qsnet():
    """boot/qsnet as a module (it has no .py suffix)."""
    path = os.path.join(ROOT, "boot", "qsnet")
    loader = importlib.machinery.SourceFileLoader("qsnet", path)
    spec = importlib.util.spec_from_loader("qsnet", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def run_net(iso):
    """Boots two nodes with bench-net.conf under -icount shift=0 on a vde
    LAN; netbench on node 0 measures and powers node 0 off, then the rest
    goes down. Returns node 0's figures."""
    qsnet = load_qsnet()
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
    return {k: int(v) for k, v in LINE.findall(out)}


def main():
    iso, nostamp_iso = sys.argv[1:3]
    with_stamp = run(iso, "bench.conf")
    without = run(nostamp_iso, "bench-ipc.conf")
    results = dict(with_stamp)
    results["ipc.null_rtt_nostamp.instr"] = without["ipc.null_rtt.instr"]
    results["ipc.stamp_overhead.ratio"] = round(
        with_stamp["ipc.null_rtt.instr"] / without["ipc.null_rtt.instr"], 4)
    rvm = run(iso, "bench-rvm.conf",
              storage=os.path.join(ROOT, "build", "bench", "storage"))
    for mode in ("flush", "noflush", "vista"):
        results["rvm.%s.instr_per_tx" % mode] = rvm["rvm.%s.instr_per_tx" % mode]
        results["rvm.%s.disk_writes_per_tx" % mode] = \
            rvm["rvm.%s.disk_writes_per_tx_x100" % mode] / 100
    results["rvm.truncate.instr_per_kb"] = rvm["rvm.truncate.instr_per_kb"]
    results["rvm.flush_over_vista.ratio"] = round(
        rvm["rvm.flush.instr_per_tx"] / rvm["rvm.vista.instr_per_tx"], 1)
    net = run_net(iso)
    if net["net.remote.errors"]:
        sys.exit("bench: %d remote requests failed" % net["net.remote.errors"])
    results.update(net)
    results["net.remote_over_udp.ratio"] = round(
        net["net.remote_rtt.instr"] / net["net.udp_echo_rtt.instr"], 2)
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
        ("rvm.truncate.instr_per_kb", "truncation, per KiB of log applied",
         "instructions/KiB"),
        ("rvm.flush_over_vista.ratio", "flush commit cost over Vista's",
         "ratio"),
        ("net.remote_rtt.instr", "remote null round trip, echo@1 (median)",
         "instructions"),
        ("net.udp_echo_rtt.instr", "lwIP UDP echo, timed in the CM (median)",
         "instructions"),
        ("net.remote_over_udp.ratio", "remote round trip over UDP echo",
         "ratio"),
        ("net.remote_async.instr_per_req", "pipelined remote, 64 in flight",
         "instructions/request"),
        ("net.remote.retransmits", "  retransmitted or refused requests",
         "requests"),
    ]
    print("%-31s %-46s %10s  %s" % ("metric", "what", "value", "unit"))
    for key, what, unit in rows:
        print("%-31s %-46s %10s  %s" % (key, what, results[key], unit))
    out_dir = os.path.join(ROOT, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote build/bench/results.json")


if __name__ == "__main__":
    main()
