"""qsprof: where the instructions go.

    tools/bin/qsprof [ipc] [--iso ...] [--kernel ...] [--out build/profile]
    tools/bin/qsprof busy --node N [--at vec43] [--windows 3] [--pause 0,2]
    tools/bin/qsprof sample --node N [--seconds 20] [--hz 200]

`ipc` (the default) counts every instruction of one IPC round trip, below.
`busy` attaches to a running node of a qsnet cluster (QSNET_STATE, as
tools/bin/qsnet; every node has a gdb stub on gdb.sock in its directory)
and counts every instruction of the node's next busy periods, from an
event (a kernel symbol: vec43 is the e1000's interrupt, IRQ 11) until
the node is idle again (gdb_busy.py). `sample` samples a running node
through its QEMU monitor: where its busy time goes while a workload runs
(sample.py). All write to build/profile.

qsprof ipc:

Boots the ISO with bench/bench-profile.conf under -icount shift=0 and
QEMU's gdb stub (on 127.0.0.1 only), where `bench profile` makes one null
round trip and one of 4 KiB between prof_begin and prof_end. gdb
(gdb_trace.py) single-steps each window, every instruction of the client,
the kernel and the server in order; this module names each instruction's
function from the kernel's and the program's symbols, and reports per
window: the total, the instructions per function, and the path, the
functions in the order the round trip ran through them.

    tools/bin/qsprof [--iso build/qs.iso] [--kernel build/kernel.elf]
                     [--out build/profile]

The total is exact (-icount counts what a trace holds: one per iteration
of a rep-prefixed instruction); it is a little more than `make bench`'s
ipc.null_rtt.instr, which is the median of rdtsc-timed calls, because a
window also holds prof_begin's return and the call to prof_end."""
import bisect
import json
import os
import socket
import subprocess
import sys
from collections import Counter

from qsnet.qemu import qemu_argv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
USER_BASE = 0x40000000  # libqs/user.ld: programs load here, the kernel below
TIMEOUT = 900  # seconds; TCG on a busy machine is slow
NAMES = {0: "null round trip", 4096: "4 KiB round trip"}


class Symbols:
    """Function names by address, from an ELF's symbol table (nm)."""

    def __init__(self, elf, tag):
        out = subprocess.run(["nm", "-n", "--defined-only", elf],
                             capture_output=True, text=True, check=True).stdout
        self.addrs, self.names = [], []
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "Tt":
                self.addrs.append(int(f[0], 16))
                self.names.append("%s:%s" % (tag, f[2]))

    def name(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.names[i] if i >= 0 else "?"

    def start(self, pc):
        """The address of the function pc is in."""
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.addrs[i] if i >= 0 else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trace(iso, program, out):
    """Boots, steps through the windows; returns gdb_trace's windows."""
    port = free_port()
    argv = qemu_argv(iso, boot_args=[("conf", "bench-profile.conf")],
                     icount=True)
    argv += ["-gdb", "tcp:127.0.0.1:%d" % port, "-S"]
    log = open(os.path.join(out, "console.log"), "w")
    qemu = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    raw = os.path.join(out, "trace.json")
    env = dict(os.environ, QSPROF_STUB="127.0.0.1:%d" % port,
               QSPROF_OUT=raw, QSPROF_WINDOWS=str(len(NAMES)))
    try:
        gdb = subprocess.run(
            ["gdb", "-nx", "-batch", "-x",
             os.path.join(ROOT, "tools", "qsprof", "gdb_trace.py"), program],
            env=env, capture_output=True, text=True, timeout=TIMEOUT)
        if gdb.returncode != 0 or not os.path.exists(raw):
            sys.exit("qsprof: gdb failed:\n%s%s" % (gdb.stdout[-2000:],
                                                     gdb.stderr[-2000:]))
    finally:
        qemu.kill()
        qemu.wait()
        log.close()
    with open(raw) as f:
        return json.load(f)["windows"]


def report(window, kernel, user):
    """The text for one window."""
    pcs = window["pcs"]
    names = [kernel.name(pc) if pc < USER_BASE else user.name(pc)
             for pc in pcs]
    title = NAMES.get(window["len"], "%d-byte round trip" % window["len"])
    return report_names(title, pcs, names)


def report_names(title, pcs, names):
    """The text for a window: its instructions' addresses and names."""
    lines = ["## %s: %d instructions (%d in the kernel)"
             % (title, len(pcs), sum(pc < USER_BASE for pc in pcs)), "",
             "%8s %6s  %s" % ("instr", "share", "function")]
    for name, n in Counter(names).most_common():
        lines.append("%8d %5.1f%%  %s" % (n, 100.0 * n / len(pcs), name))
    lines += ["", "path (each function in turn, with its instructions):"]
    runs = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    lines += ["  %-40s %5d" % (name, n) for name, n in runs]
    return "\n".join(lines) + "\n"


def publish(out, name, text):
    """Writes a report to OUT/NAME and shows it; the exit status."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    with open(path, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    print("(written to %s)" % path)
    return 0


def main_busy(argv):
    import argparse
    from qsnet.cluster import DEFAULT_STATE
    from . import sample
    p = argparse.ArgumentParser(prog="qsprof busy")
    p.add_argument("--node", type=int, required=True)
    p.add_argument("--at", default="vec43",
                   help="the kernel symbol that starts a period")
    p.add_argument("--windows", type=int, default=3)
    p.add_argument("--pause", default="",
                   help="other nodes (1,2) stopped while a period is stepped")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    a = p.parse_args(argv)
    state = os.path.join(ROOT, os.environ.get("QSNET_STATE") or DEFAULT_STATE)
    stub = os.path.join(state, str(a.node), "gdb.sock")
    pause = [os.path.join(state, n.strip(), "qmp.sock")
             for n in a.pause.split(",") if n.strip()]
    if not os.path.exists(stub):
        raise SystemExit("qsprof: node %d has no gdb stub (%s)" % (a.node,
                                                                 stub))
    kelf = os.path.join(ROOT, "build", "kernel.elf")
    kernel = Symbols(kelf, "kernel")
    try:
        at = kernel.addrs[kernel.names.index("kernel:" + a.at)]
    except ValueError:
        raise SystemExit("qsprof: no kernel symbol %s" % a.at)
    halts = sorted(sample.halts(kelf))
    os.makedirs(a.out, exist_ok=True)
    raw = os.path.join(a.out, "busy-trace.json")
    env = dict(os.environ, QSPROF_STUB=stub, QSPROF_OUT=raw,
               QSPROF_AT=str(at), QSPROF_WINDOWS=str(a.windows),
               QSPROF_HALTS=",".join(map(str, halts)),
               QSPROF_PAUSE=",".join(pause))
    g = subprocess.run(["gdb", "-nx", "-batch", "-x",
                        os.path.join(ROOT, "tools", "qsprof", "gdb_busy.py"),
                        kelf], env=env, capture_output=True, text=True,
                       timeout=TIMEOUT * 4)
    if not os.path.exists(raw):
        raise SystemExit("qsprof: gdb failed:\n%s%s" % (g.stdout[-2000:],
                                                       g.stderr[-2000:]))
    with open(raw) as f:
        windows = json.load(f)["windows"]
    programs = {}
    text = ""
    for i, w in enumerate(windows):
        names, prog = [], "?"
        progs = {int(k): v for k, v in w["progs"].items()}
        for j, pc in enumerate(w["pcs"]):
            if j in progs:
                prog = progs[j]
            if pc < USER_BASE:
                names.append(kernel.name(pc))
                continue
            if prog not in programs:
                elf = os.path.join(ROOT, "build", "bin", prog)
                programs[prog] = (Symbols(elf, prog) if os.path.exists(elf)
                                  else None)
            syms = programs[prog]
            names.append(syms.name(pc) if syms else prog + ":?")
        text += report_names("node %d, busy period %d from %s" % (
            a.node, i + 1, a.at), w["pcs"], names) + "\n"
    return publish(a.out, "busy-node%d.txt" % a.node, text)


def main_sample(argv):
    import argparse
    from qsnet.cluster import DEFAULT_STATE
    from . import sample
    p = argparse.ArgumentParser(prog="qsprof sample",
                                description=sample.__doc__.split("\n\n")[0])
    p.add_argument("--node", type=int, required=True)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--hz", type=float, default=200)
    p.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    a = p.parse_args(argv)
    state = os.path.join(ROOT, os.environ.get("QSNET_STATE") or DEFAULT_STATE)
    sock = os.path.join(state, str(a.node), "qmp.sock")
    if not os.path.exists(sock):
        raise SystemExit("qsprof: node %d is not running (no %s)"
                         % (a.node, sock))
    counts, n = sample.sample(sock, a.seconds, a.hz,
                              os.path.join(ROOT, "build", "kernel.elf"),
                              Symbols)
    return publish(a.out, "sample-node%d.txt" % a.node,
                   sample.report(counts, n, a.node))


def main(argv=None):
    import argparse
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sample"]:
        return main_sample(argv[1:])
    if argv[:1] == ["busy"]:
        return main_busy(argv[1:])
    if argv[:1] == ["ipc"]:
        argv = argv[1:]
    p = argparse.ArgumentParser(prog="qsprof", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--iso", default=os.path.join(ROOT, "build", "qs.iso"))
    p.add_argument("--kernel", default=os.path.join(ROOT, "build",
                                                    "kernel.elf"),
                   help="the ISO's kernel, for its symbols")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    program = os.path.join(ROOT, "build", "bin", "bench")
    kernel = Symbols(a.kernel, "kernel")
    user = Symbols(program, "bench")
    return publish(a.out, "ipc.txt", "".join(
        report(w, kernel, user) + "\n"
        for w in trace(a.iso, program, a.out)))
