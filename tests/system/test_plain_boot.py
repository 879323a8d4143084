"""The ISO boots the way a plain user would run it: QEMU with the serial port
on stdio, no host tool involved."""

import os
import re
import select
import subprocess
import time

import pytest

from qsharness import BOOT_TIMEOUT, CMD_TIMEOUT, ISO


class Serial:
    """QEMU's stdio serial port, read through a pipe with timeouts."""

    def __init__(self, proc):
        self.proc = proc
        self.raw = b""
        self.pos = 0  # text offset up to which output has been matched

    def text(self):
        return self.raw.decode("utf-8", "replace").replace("\r", "")

    def expect(self, regex, timeout):
        """Wait until REGEX matches the output after the previous match."""
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail("timed out waiting for %r; output:\n%s"
                            % (regex, self.text()[-3000:]))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    pytest.fail("QEMU exited (status %s) while waiting for "
                                "%r; output:\n%s" % (self.proc.wait(), regex,
                                                     self.text()[-3000:]))
                self.raw += chunk

    def send(self, data):
        self.proc.stdin.write(data.encode())
        self.proc.stdin.flush()


@pytest.fixture
def plain_qemu(tmp_path):
    assert os.path.isfile(ISO), "ISO %s missing (build it first)" % ISO
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(
            ["qemu-system-i386", "-cdrom", ISO] +
            "-serial stdio -display none -nic none".split(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()


def test_iso_boots_with_serial_on_stdio(plain_qemu):
    con = Serial(plain_qemu)
    con.expect(r"^qs0> ", BOOT_TIMEOUT)  # node id 0 without fw_cfg
    con.send("echo plain boot\r")
    con.expect(r"^plain boot\n", CMD_TIMEOUT)
    con.expect(r"^qs0> ", CMD_TIMEOUT)
    con.send("halt\r")
    try:
        plain_qemu.wait(timeout=CMD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("QEMU did not exit after halt")
