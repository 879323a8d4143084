"""Runs inside gdb (qsprof starts `gdb -batch -x` this file, with the
program's ELF loaded and QSPROF_* in the environment): connects to QEMU's
gdb stub, and every time the program reaches prof_begin with prof_magic
set, single-steps every instruction, in the kernel and in every process,
until it reaches prof_end; writes one trace per window to QSPROF_OUT as
JSON, {"windows": [{"len": N, "pcs": [pc, ...]}]}, then kills QEMU.

QEMU's stub steps with interrupts and timers masked (its default sstep
flags), so a trace holds the window's own instructions only, in order, as
-icount counts them (one per iteration of a rep-prefixed instruction)."""
import json
import os

import gdb

MAGIC = 0x51505246
WINDOWS = int(os.environ["QSPROF_WINDOWS"])
STEPS_MAX = int(os.environ.get("QSPROF_STEPS_MAX", "200000"))


def addr(sym):
    return int(gdb.parse_and_eval("(unsigned int)&%s" % sym))


def u32(inf, a):
    """The word at a in the current address space, or None if unmapped."""
    try:
        return int.from_bytes(inf.read_memory(a, 4).tobytes(), "little")
    except gdb.MemoryError:
        return None


def pc():
    return int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFF


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("target remote %s" % os.environ["QSPROF_STUB"])
    begin, end = addr("prof_begin"), addr("prof_end")
    magic, length = addr("prof_magic"), addr("prof_len")
    inf = gdb.selected_inferior()
    ours = lambda: u32(inf, magic) == MAGIC  # noqa: E731: this program's
    gdb.execute("break *%d" % begin)
    windows = []
    while len(windows) < WINDOWS:
        gdb.execute("continue", to_string=True)
        if pc() != begin or not ours():
            continue  # another program's code at the same address
        pcs = []
        while not (pc() == end and ours()):
            pcs.append(pc())
            if len(pcs) > STEPS_MAX:
                raise gdb.GdbError("no prof_end after %d steps" % STEPS_MAX)
            gdb.execute("stepi", to_string=True)
        windows.append({"len": u32(inf, length), "pcs": pcs})
    with open(os.environ["QSPROF_OUT"], "w") as f:
        json.dump({"windows": windows}, f)
    gdb.execute("kill")


main()
