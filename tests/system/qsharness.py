"""Helpers for the system tests: boot Quicksilver nodes in QEMU with the
qsnet package (tools/qsnet) and talk to their serial shell. What the shell
prints is parsed by the package's parsers, the screen read by its PPM
reader; qsnet, Screen and the rest are here for the test modules.

Timeouts are generous because QEMU runs without KVM (TCG) on a slow machine.
Env overrides: QSNET_ISO (default build/qs.iso), QS_BOOT_TIMEOUT,
QS_CMD_TIMEOUT, QS_PROG_TIMEOUT.
"""

import os
import re
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QSNET_PATH = os.path.join(ROOT, "tools", "bin", "qsnet")  # the command line
ISO = os.environ.get("QSNET_ISO", os.path.join(ROOT, "build", "qs.iso"))
BOOT_TIMEOUT = float(os.environ.get("QS_BOOT_TIMEOUT", 120))
CMD_TIMEOUT = float(os.environ.get("QS_CMD_TIMEOUT", 60))
PROG_TIMEOUT = float(os.environ.get("QS_PROG_TIMEOUT", 300))  # ktest etc.
STATE_DIR = os.path.join(ROOT, "build", "test-nodes")

sys.path.insert(0, os.path.join(ROOT, "tools"))
_saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
try:  # no tools/qsnet/__pycache__ in the source tree
    import qsnet
finally:
    sys.dont_write_bytecode = _saved

Screen = qsnet.Screen  # the test modules' name for what screen() returns


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
        rows = qsnet.ps_rows(out)
        assert len(rows) == len(lines) - 1, "bad ps row in:\n%s" % out
        for r in rows:
            assert r["state"] in ("running", "suspended", "zombie"), \
                "bad state: %r" % r
        return rows

    def ps_pids(self):
        return {r["pid"] for r in self.ps()}

    def mem_free(self):
        out = self.exec("mem")
        m = qsnet.parse_mem(out)
        assert m, "bad mem output: %r" % out
        assert m["free"] + m["used"] == m["total"], \
            "mem does not add up: %r" % out
        return m["free"]

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


def screen(cluster, node, tmpdir):
    """What node NODE shows now (a Screen), through QMP screendump."""
    return cluster.screen(node, os.path.join(str(tmpdir), "screen%d.ppm" % node))


def boot_cluster(state_dir, n=1, **up_args):
    """Boots with test.conf unless told otherwise: its shell holds the
    rights tests need (crash a server, pass a right to a program)."""
    assert os.path.isfile(ISO), "ISO %s missing (build it first)" % ISO
    up_args.setdefault("conf", "test.conf")
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
