"""Tests of qsnet's LAN (tools/qsnet/lan.py) without a guest: three fake
NICs (`vde_plug` on each node's hub) on the mesh and the star, and what
each cut lets through.

That a frame did not arrive is shown by a probe, never by a wait: a
wirefilter reads what reaches it in turn, so once a probe sent after the
frame has crossed the same wirefilter the other way, the frame is gone
for good (dropped at the cut). After the heal, the next frame the other
side gets from the sender is a new one, not the dropped frame."""

import os
import select
import struct
import subprocess
import time

import pytest

from qsharness import ROOT  # noqa: F401  (puts tools/ on the path)
from qsnet.errors import QsnetError
from qsnet.lan import Lan

DEADLINE = 30  # seconds for a frame that must arrive (a busy host)


def mac(node):
    return bytes([0x52, 0x54, 0, 0x12, 0x34, node])


class Nic:
    """A fake e1000 on node N's hub: vde_plug, frames length-prefixed on
    its stdin and stdout; it takes the frames sent to everyone or to it."""

    def __init__(self, lan, node):
        self.node = node
        self.p = subprocess.Popen(["vde_plug", "vde://" + lan.hub(node)],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.buf, self.frames, self.heard = b"", [], set()

    def send(self, tag, to=None):
        """A frame to node TO, or to everyone."""
        frame = ((b"\xff" * 6 if to is None else mac(to)) + mac(self.node) +
                 b"\x88\xb5" + tag.encode().ljust(46, b"."))
        self.p.stdin.write(struct.pack(">H", len(frame)) + frame)
        self.p.stdin.flush()

    def _read(self, timeout):
        """Read what came within TIMEOUT: hellos go to `heard` (whom this
        node has heard), other frames for it to `frames`."""
        if not select.select([self.p.stdout], [], [], max(0, timeout))[0]:
            return
        chunk = os.read(self.p.stdout.fileno(), 65536)
        assert chunk, "vde_plug on node %d ended" % self.node
        self.buf += chunk
        while len(self.buf) >= 2:
            n = struct.unpack(">H", self.buf[:2])[0]
            if len(self.buf) < 2 + n:
                break
            frame, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
            tag = frame[14:].rstrip(b".").decode()
            if tag == "hello":
                self.heard.add(frame[11])
            elif frame[:6] in (b"\xff" * 6, mac(self.node)):
                self.frames.append((frame[11], tag))

    def hear(self, other):
        """Wait until OTHER's hellos reach this node: both are plugged in
        and the wires between them carry (OTHER says hello again every
        half second until then; a late hello is ignored)."""
        deadline = time.monotonic() + DEADLINE
        while other.node not in self.heard:
            assert time.monotonic() < deadline, \
                "node %d never heard node %d" % (self.node, other.node)
            other.send("hello", to=self.node)
            end = time.monotonic() + 0.5
            while other.node not in self.heard and time.monotonic() < end:
                self._read(end - time.monotonic())

    def next(self):
        """The next frame for this node: (sender, tag); fails after
        DEADLINE."""
        deadline = time.monotonic() + DEADLINE
        while not self.frames:
            left = deadline - time.monotonic()
            assert left > 0, "node %d: no frame within %d s" % (self.node,
                                                                DEADLINE)
            self._read(left)
        return self.frames.pop(0)

    def expect(self, sender, tag):
        """The next frame for this node is SENDER's TAG: any frame that
        should have been dropped before it would come first."""
        assert self.next() == (sender, tag)

    def close(self):
        self.p.kill()
        self.p.wait()


@pytest.fixture(params=["mesh", "star"])
def lan(request, tmp_path):
    lan = Lan(str(tmp_path / "nodes"))
    lan.set_shape(request.param, [])
    nics = []
    try:
        for n in range(3):
            lan.wire_up(n)
        nics = [Nic(lan, n) for n in range(3)]
        for a in nics:
            for b in nics:
                if b is not a:
                    b.hear(a)
        yield lan, nics
    finally:
        for nic in nics:
            nic.close()
        lan.down(range(3))


def test_mesh_cuts_one_pair_both_ways(lan):
    lan, nics = lan
    if lan.shape() != "mesh":
        with pytest.raises(QsnetError, match="needs the mesh LAN"):
            lan.cut_pair(0, 1, inbound=True, outbound=True)
        return
    lan.cut_pair(0, 1, inbound=True, outbound=True)
    assert not lan.carries(0, 1) and lan.carries(0, 2) and lan.carries(1, 2)
    nics[0].send("x")
    nics[2].expect(0, "x")  # the third node hears both sides
    nics[2].send("z")       # and both hear it
    nics[0].expect(2, "z")
    nics[1].expect(2, "z")
    # the way back opened, a probe crosses the wire after x: x is gone
    lan.cut_pair(0, 1, outbound=True)
    nics[1].send("probe", to=0)
    nics[0].expect(1, "probe")
    lan.cut_pair(0, 1, inbound=True, outbound=True)
    nics[1].send("y")
    nics[2].expect(1, "y")
    lan.cut_pair(0, 1, inbound=True)  # now the other way: y is gone
    nics[0].send("probe", to=1)
    nics[1].expect(0, "probe")  # and x never came
    lan.cut_pair(0, 1)
    assert lan.carries(0, 1)
    nics[1].send("after", to=0)
    nics[0].expect(1, "after")  # y never came


def test_mesh_cuts_one_pair_one_way(lan):
    lan, nics = lan
    if lan.shape() != "mesh":
        pytest.skip("a pair's cut needs the mesh LAN")
    lan.cut_pair(0, 1, outbound=True)  # 0 -> 1 cut, 1 -> 0 carries
    assert not lan.carries(0, 1) and lan.carries(1, 2)
    nics[0].send("x")
    nics[2].expect(0, "x")
    nics[1].send("y")
    nics[0].expect(1, "y")
    nics[2].expect(1, "y")
    nics[1].send("probe", to=0)  # crosses the wire after x
    nics[0].expect(1, "probe")
    lan.cut_pair(0, 1)
    nics[0].send("after", to=1)
    nics[1].expect(0, "after")  # x never came


def test_node_cut_in_is_one_way_in_both_shapes(lan):
    lan, nics = lan
    lan.cut_oneway(1, inbound=True)
    nics[1].send("y")  # 1 still speaks to both
    nics[0].expect(1, "y")
    nics[2].expect(1, "y")
    nics[0].send("x")  # but hears neither
    nics[2].expect(0, "x")
    nics[1].send("probe", to=0)  # crosses x's last wire after x
    nics[0].expect(1, "probe")
    lan.cut_oneway(1)
    nics[0].send("after", to=1)
    nics[1].expect(0, "after")  # x never came


def test_impairments_compose_along_the_way(lan):
    lan, nics = lan
    lan.netem(0, loss=50, delay=10, jitter=2)
    lan.netem(1, loss=50, dup=20, delay=5)
    loss, dup, delay, jitter = lan.hop(0, 1)
    assert (round(loss), round(dup), delay, jitter) == (75, 20, 15, 2)
    assert lan.hop(2, 0)[::2] == (50, 10)
    lan.cut_oneway(2, outbound=True)
    assert lan.hop(2, 0)[0] == 100 and lan.hop(0, 2)[0] == 50
    assert not lan.carries(0, 2) and lan.carries(0, 1)
    lan.netem(0)
    lan.netem(1)
    lan.cut_oneway(2)
    nics[0].send("plain")
    nics[1].expect(0, "plain")
    nics[2].expect(0, "plain")


def test_settings_need_a_running_lan(tmp_path):
    lan = Lan(str(tmp_path / "nodes"))
    with pytest.raises(QsnetError, match="no wire"):
        lan.netem(0, loss=10)
    with pytest.raises(QsnetError, match="star or a mesh"):
        lan.set_shape("ring", [])
