"""Runs inside gdb (qsprof busy starts `gdb -batch -x` this file with the
kernel's ELF loaded and QSPROF_* in the environment): attaches to a
running node's gdb stub, breaks at QSPROF_AT (a kernel address: an
interrupt's entry, say), and from each hit single-steps every
instruction, kernel and user, until the CPU reaches one of the idle
thread's halts (QSPROF_HALTS): one busy period, what the node did for the
event. For each user stretch it notes the running program (current's
process name). Writes {"windows": [{"pcs": [...], "progs": {index:
name}}]} to QSPROF_OUT, then lets the node run on and detaches.
QSPROF_PAUSE names other nodes' QMP sockets: they are stopped while a
period is stepped (so that nothing they send, a retransmission or a
heartbeat, joins it) and go on after.

QEMU's stub steps with interrupts and timers masked, so the period holds
the event's own work (a device that has more for the node, like a second
packet, raises its interrupt after)."""
import json
import os
import socket

import gdb

WINDOWS = int(os.environ["QSPROF_WINDOWS"])
STEPS_MAX = int(os.environ.get("QSPROF_STEPS_MAX", "400000"))
USER_BASE = 0x40000000


def qmp(path, command):
    """One QMP command to the QEMU at path (stop or cont)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        f = s.makefile("rwb")
        f.readline()  # greeting
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}).encode() + b"\n")
            f.flush()
            while b'"return"' not in f.readline():
                pass


def pc():
    return int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFF


def program():
    try:
        return gdb.parse_and_eval("current->proc->name").string()
    except gdb.error:
        return "?"


def main():
    halts = {int(a) for a in os.environ["QSPROF_HALTS"].split(",")}
    others = [p for p in os.environ.get("QSPROF_PAUSE", "").split(",") if p]
    at = int(os.environ["QSPROF_AT"], 0)
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("target remote %s" % os.environ["QSPROF_STUB"])
    gdb.execute("break *%d" % at)
    windows = []
    try:
        while len(windows) < WINDOWS:
            gdb.execute("continue", to_string=True)
            for o in others:
                qmp(o, "stop")
            pcs, progs, user = [], {}, False
            while pc() not in halts:
                p = pc()
                if p >= USER_BASE and not user:
                    progs[len(pcs)] = program()
                user = p >= USER_BASE
                pcs.append(p)
                if len(pcs) > STEPS_MAX:
                    break
                gdb.execute("stepi", to_string=True)
            windows.append({"pcs": pcs, "progs": progs})
            for o in others:
                qmp(o, "cont")
    finally:
        with open(os.environ["QSPROF_OUT"], "w") as f:
            json.dump({"windows": windows}, f)
        gdb.execute("delete")
        gdb.execute("detach")


main()
