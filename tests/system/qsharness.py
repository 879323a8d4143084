"""Helpers for the system tests: boot Quicksilver nodes in QEMU via
boot/qsnet (loaded as a module) and talk to their serial shell.

Timeouts are generous because QEMU runs without KVM (TCG) on a slow machine.
Env overrides: QSNET_ISO (default build/qs.iso), QS_BOOT_TIMEOUT,
QS_CMD_TIMEOUT, QS_PROG_TIMEOUT.
"""

import importlib.machinery
import importlib.util
import os
import re
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QSNET_PATH = os.path.join(ROOT, "boot", "qsnet")
ISO = os.environ.get("QSNET_ISO", os.path.join(ROOT, "build", "qs.iso"))
BOOT_TIMEOUT = float(os.environ.get("QS_BOOT_TIMEOUT", 120))
CMD_TIMEOUT = float(os.environ.get("QS_CMD_TIMEOUT", 60))
PROG_TIMEOUT = float(os.environ.get("QS_PROG_TIMEOUT", 300))  # ktest etc.
STATE_DIR = os.path.join(ROOT, "build", "test-nodes")


def load_qsnet():
    loader = importlib.machinery.SourceFileLoader("qsnet", QSNET_PATH)
    spec = importlib.util.spec_from_loader("qsnet", loader)
    mod = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:  # no boot/__pycache__ in the source tree
        loader.exec_module(mod)
    finally:
        sys.dont_write_bytecode = saved
    return mod


qsnet = load_qsnet()


class Session:
    """What a node prints, as it arrives on an open console connection."""

    def __init__(self, sock):
        self.sock = sock
        self.text = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data.encode())

    def expect(self, regex, timeout=CMD_TIMEOUT):
        """Wait until REGEX (multiline) matches what arrived since the last
        match; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(regex, self.text, re.M)
            if m:
                self.text = self.text[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail("timed out waiting for %r; got %r"
                            % (regex, self.text[-2000:]))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except OSError:  # socket.timeout
                continue
            if not chunk:
                pytest.fail("console closed waiting for %r" % regex)
            self.text += chunk.decode("utf-8", "replace").replace("\r", "")


class Node:
    """One booted node plus helpers for its shell."""

    def __init__(self, cluster, node=0):
        self.cluster = cluster
        self.id = node

    def exec(self, cmd, timeout=CMD_TIMEOUT):
        """Shell output of CMD, without interleaved `[kernel] ` log lines
        (the kernel logs to the same serial port, asynchronously)."""
        out = self.cluster.exec(self.id, cmd, timeout)
        return "".join(l for l in out.splitlines(True)
                       if not l.startswith("[kernel] "))

    def send_raw(self, data):
        self.cluster.send_raw(self.id, data)

    def session(self, timeout=CMD_TIMEOUT):
        """A console connection kept open for typing and reading back (use
        it rather than send_raw + wait_log when the answer comes at once:
        QEMU's log file can lose what is printed while a client
        disconnects)."""
        return Session(self.cluster._console(self.id, timeout))

    def log(self, start=0):
        return self.cluster.log(self.id, start)

    def log_size(self):
        return self.cluster.log_size(self.id)

    def wait_log(self, regex, timeout=CMD_TIMEOUT, start=0):
        return self.cluster.wait_log(self.id, regex, timeout, start)

    def run(self, prog_and_args):
        """`run PROG ARGS`; returns the new pid."""
        out = self.exec("run " + prog_and_args)
        m = re.search(r"^pid (\d+)$", out, re.M)
        assert m, "run %s: expected 'pid N', got %r" % (prog_and_args, out)
        return int(m.group(1))

    def ps(self):
        """Parse `ps`: list of dicts with pid, parent, name, state, threads,
        pages, ticks."""
        out = self.exec("ps")
        lines = [l for l in out.split("\n") if l.strip()]
        assert lines and lines[0].split()[0] == "PID", "bad ps output: %r" % out
        rows = []
        for l in lines[1:]:
            f = l.split()
            assert len(f) == 7, "bad ps row %r in:\n%s" % (l, out)
            assert f[3] in ("running", "suspended", "zombie"), "bad state: %r" % l
            rows.append(dict(pid=int(f[0]), parent=int(f[1]), name=f[2],
                             state=f[3], threads=int(f[4]), pages=int(f[5]),
                             ticks=int(f[6])))
        return rows

    def ps_pids(self):
        return {r["pid"] for r in self.ps()}

    def mem_free(self):
        out = self.exec("mem")
        m = re.search(r"^pages: total (\d+), free (\d+), used (\d+)$", out, re.M)
        assert m, "bad mem output: %r" % out
        total, free, used = map(int, m.groups())
        assert free + used == total, "mem does not add up: %r" % out
        assert re.search(r"^kernel heap: \d+ bytes$", out, re.M), out
        return free

    def poll(self, what, fn, timeout=CMD_TIMEOUT):
        """Call fn() (which issues shell commands) until it returns
        (True, value); fail with the last value after timeout. Used for
        effects that may be asynchronous in the guest (reaping, scheduling)."""
        deadline = time.monotonic() + timeout
        while True:
            done, val = fn()
            if done:
                return val
            if time.monotonic() > deadline:
                pytest.fail("timed out waiting for %s; last: %r" % (what, val))
            time.sleep(0.2)  # poll interval, not a synchronisation delay

    def wait_gone(self, pid, timeout=CMD_TIMEOUT):
        """Wait until pid is no longer listed by ps."""
        def gone():
            pids = self.ps_pids()
            return pid not in pids, sorted(pids)
        self.poll("pid %d to leave ps" % pid, gone, timeout)

    def wait_free(self, free0, timeout=CMD_TIMEOUT):
        """Wait until the free page count is exactly free0."""
        def back():
            free = self.mem_free()
            return free == free0, free
        self.poll("free pages back to exactly %d" % free0, back, timeout)

    def wait_pids(self, pids0, timeout=CMD_TIMEOUT):
        """Wait until ps lists exactly the pids in pids0."""
        def back():
            pids = self.ps_pids()
            return pids == pids0, sorted(pids)
        self.poll("ps back to %s" % sorted(pids0), back, timeout)

    def kill(self, pid):
        out = self.exec("kill %d" % pid)
        assert out.strip() == "killed %d" % pid, out
        self.wait_gone(pid)

    def alive(self):
        """The shell still answers."""
        assert self.exec("echo alive").strip() == "alive"


class Screen:
    """A node's screen as RGB pixels: width, height, and rows[y], bytes
    with 3 per pixel."""

    def __init__(self, width, height, rows):
        self.width, self.height, self.rows = width, height, rows

    def pixel(self, x, y):
        """(r, g, b) at (x, y)."""
        return tuple(self.rows[y][3 * x:3 * x + 3])

    def span(self, x, y, n):
        """The n pixels from (x, y) rightwards, as bytes."""
        return self.rows[y][3 * x:3 * (x + n)]


def parse_ppm(data):
    """A binary P6 PPM (maxval 255) as a Screen."""
    if not data.startswith(b"P6"):
        raise ValueError("not a P6 PPM")
    fields, pos = [], 2
    while len(fields) < 3:  # width, height, maxval; skip blanks and comments
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while data[pos:pos + 1].isdigit():
            pos += 1
        fields.append(int(data[start:pos]))
    w, h, maxval = fields
    if maxval != 255:
        raise ValueError("PPM maxval %d, not 255" % maxval)
    pos += 1  # the one blank after maxval
    stride = 3 * w
    if len(data) < pos + h * stride:
        raise ValueError("PPM truncated")
    return Screen(w, h, [data[pos + y * stride:pos + (y + 1) * stride]
                         for y in range(h)])


def screen(cluster, node, tmpdir):
    """What node NODE shows now, through QMP screendump (PPM)."""
    path = os.path.join(str(tmpdir), "screen%d.ppm" % node)
    cluster.qmp(node, "screendump", {"filename": os.path.abspath(path)})
    with open(path, "rb") as f:
        return parse_ppm(f.read())


def boot_cluster(state_dir, n=1, **up_args):
    assert os.path.isfile(ISO), "ISO %s missing (build it first)" % ISO
    cl = qsnet.Cluster(state_dir, iso=ISO)
    cl.down()  # leftovers from an aborted run
    try:
        cl.up(n, timeout=BOOT_TIMEOUT, **up_args)
    except BaseException:
        cl.down()
        raise
    return cl


def cluster_fixture(name, n=1, **up_args):
    """A module-scoped fixture: N nodes with state in build/NAME, booted
    with qsnet's up(**up_args) and stopped at the end of the module."""
    @pytest.fixture(scope="module")
    def fixture():
        cl = boot_cluster(os.path.join(ROOT, "build", name), n, **up_args)
        try:
            yield cl
        finally:
            cl.down()
    return fixture
