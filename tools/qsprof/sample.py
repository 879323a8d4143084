"""qsprof sample: where a running node's time goes, by sampling.

Asks the node's QEMU (its QMP socket, through the human monitor) for the
CPU's registers a number of times a second while it runs: each sample is
where the CPU was then. A user address is named from the symbols of the
program whose address space was loaded (CR3, in the same answer: the
first time a CR3 is seen, the node is paused for a moment to read the
name of `current`'s process from guest memory, and its ELF in build/bin
gives the symbols), a kernel one from build/kernel.elf's, and the idle
thread's halt (the `hlt` instructions' addresses) is counted apart. Run a
workload on the cluster (tools/bin/qsnet), then sample the node that
serves it; the report says which functions and programs the busy samples
fell in.

A sample is where a translated block of QEMU's was when the monitor
asked, so it is a statistical view: a function with few samples is not
measured, only seen. Exact counts of one round trip are `qsprof ipc`'s."""
import collections
import json
import os
import re
import subprocess
import time

from qsnet.host import connect_unix

EIP = re.compile(r"EIP=([0-9a-f]{8})")
CR3 = re.compile(r"CR3=([0-9a-f]{8})")
USER_BASE = 0x40000000


class Monitor:
    """One QMP connection, kept open, for many human-monitor commands."""

    def __init__(self, sock_path):
        self.sock = connect_unix(sock_path, 30)
        self.f = self.sock.makefile("rwb")
        self.f.readline()  # greeting
        self._call("qmp_capabilities")

    def _call(self, execute, arguments=None):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("QMP connection closed")
            reply = json.loads(line)
            if "error" in reply:
                raise OSError("QMP: %s" % reply["error"].get("desc"))
            if "return" in reply:
                return reply["return"]

    def hmp(self, line):
        return self._call("human-monitor-command", {"command-line": line})

    def word(self, phys):
        """A 32-bit word of guest physical memory (the kernel's own
        addresses are physical: it identity-maps them)."""
        out = self.hmp("xp /1wx 0x%x" % phys)
        return int(out.split(":")[1].split()[0], 16)

    def close(self):
        self.sock.close()


def kernel_layout(kernel_elf):
    """Where `current` is, and the offsets of thread_t.proc, proc_t.name
    and proc_t.pd, from the kernel's debug information (gdb)."""
    out = subprocess.run(
        ["gdb", "-nx", "-batch",
         "-ex", "print (unsigned)&current",
         "-ex", "print (unsigned)&((thread_t *)0)->proc",
         "-ex", "print (unsigned)&((proc_t *)0)->name",
         "-ex", "print (unsigned)&((proc_t *)0)->pd", kernel_elf],
        capture_output=True, text=True, check=True).stdout
    vals = [int(v) for v in re.findall(r"^\$\d+ = (\d+)", out, re.M)]
    if len(vals) != 4:
        raise SystemExit("qsprof: cannot read the kernel's layout:\n" + out)
    return vals


def program_of(mon, layout, cr3):
    """The name of the process whose page directory is cr3, read with the
    node paused, if it is `current`'s (else None: ask again later)."""
    current, proc_off, name_off, pd_off = layout
    mon.hmp("stop")
    try:
        m = CR3.search(mon.hmp("info registers"))
        thread = mon.word(current)
        proc = mon.word(thread + proc_off) if thread else 0
        if not m or not proc or mon.word(proc + pd_off) != int(m.group(1), 16) \
                or int(m.group(1), 16) != cr3:
            return None
        raw = b"".join(mon.word(proc + name_off + i).to_bytes(4, "little")
                       for i in range(0, 16, 4))
        return raw.split(b"\0")[0].decode(errors="replace")
    finally:
        mon.hmp("cont")


def halts(kernel_elf):
    """The addresses of the kernel's hlt instructions."""
    out = subprocess.run(["objdump", "-d", kernel_elf], capture_output=True,
                         text=True, check=True).stdout
    return {int(m.group(1), 16) for m in
            re.finditer(r"^\s*([0-9a-f]+):\s+f4\s+hlt", out, re.M)}


def sample(sock_path, seconds, hz, kernel_elf, symbols_of):
    """Samples for SECONDS at about HZ; returns a Counter of names
    ("kernel:fn", "prog:fn", "idle") and the number of samples."""
    mon = Monitor(sock_path)
    layout = kernel_layout(kernel_elf)
    kernel = symbols_of(kernel_elf, "kernel")
    # a halted CPU's EIP is past its hlt (or at it, if just woken)
    idle = {a + d for a in halts(kernel_elf) for d in (0, 1)}
    procs, programs, counts = {}, {}, collections.Counter()
    n = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            regs = mon.hmp("info registers")
            m, c = EIP.search(regs), CR3.search(regs)
            if not m or not c:
                continue
            pc, cr3 = int(m.group(1), 16), int(c.group(1), 16)
            n += 1
            if pc < USER_BASE:
                counts["idle" if pc in idle else kernel.name(pc)] += 1
            else:
                if cr3 not in procs:
                    procs[cr3] = program_of(mon, layout, cr3)
                prog = procs[cr3] or "?"
                if not procs[cr3]:
                    del procs[cr3]  # ask again next time
                if prog not in programs:
                    elf = os.path.join(os.path.dirname(kernel_elf), "bin",
                                       prog)
                    programs[prog] = (symbols_of(elf, prog)
                                      if os.path.exists(elf) else None)
                syms = programs[prog]
                counts[syms.name(pc) if syms else prog + ":?"] += 1
            time.sleep(1.0 / hz)
    finally:
        mon.close()
    return counts, n


def report(counts, n, node):
    busy = n - counts["idle"]
    lines = ["## node %d: %d samples, %d busy (%.0f%%)"
             % (node, n, busy, 100.0 * busy / max(n, 1)), ""]
    by_prog = collections.Counter()
    for name, k in counts.items():
        if name != "idle":
            by_prog[name.split(":")[0]] += k
    lines.append("busy samples by program (the kernel apart):")
    lines += ["  %6d %5.1f%%  %s" % (k, 100.0 * k / max(busy, 1), p)
              for p, k in by_prog.most_common()]
    lines += ["", "busy samples by function:"]
    lines += ["  %6d %5.1f%%  %s" % (k, 100.0 * k / max(busy, 1), name)
              for name, k in counts.most_common() if name != "idle"]
    return "\n".join(lines) + "\n"
