"""The LAN, in one of two shapes, chosen at `up` (STATE/lan.json):

star (the default): one vde_switch for the cluster (STATE/lan.sw). Each
node's e1000 sits on a hub of its own (N/nic.sw), joined to the switch by
a wirefilter (`wirefilter -v lan.sw:N/nic.sw`, managed through
N/wire.mgmt). The switch learns where each MAC is, so a frame crosses two
wires: its sender's and its receiver's. A cut can only cut a node off from
all the others.

mesh: no switch. Each node's hub is joined to a multilink of its own
(`vde_plug N/nic.sw multi://N/mesh`: what the node sends goes out on every
link, what comes in on any link goes to the node only, never on to another
link), and every pair of nodes A < B has a wirefilter of its own between
their multilinks (`wirefilter -v A/mesh:B/mesh`, managed through
STATE/wire-A-B.mgmt). A frame crosses the one wire of its pair, so one pair
can be cut (one way or both) while both still reach the others: the
non-transitive partitions of Jepsen's nemeses. Each frame goes to every
peer's wire, so the mesh costs N-1 wire crossings per frame where the star
costs two: it is for small clusters.

Settings, in both shapes: each node's impairments (N/wire.json: loss, dup,
delay, jitter, the cable down, its wire cut in or out) apply to what it
sends and what it receives, and the cuts between pairs (STATE/cuts.json,
mesh only) to one direction between two nodes. A frame from A to B meets
A's settings as a sender and B's as a receiver, composed (losses compound,
delays add) and set on the wire (or wires) it crosses. The hubs, the
multilinks and the wires outlive the node's QEMU, so a restarted node plugs
into the same place; `down` stops them and forgets the settings. Only
Debian's programs are in the data path: QEMU's vde netdev, vde_switch,
vde_plug and wirefilter."""

import glob
import json
import os
import re
import signal
import subprocess
import time

from .errors import QsnetError
from .host import POLL, connect_unix, pidfile_process

SHAPES = ("star", "mesh")
PLAIN = {"loss": 0, "dup": 0, "delay": 0, "jitter": 0, "down": False,
         "cut_in": False, "cut_out": False}


class Wire:
    """One wirefilter: its files, the parties at its left and right ends
    (a node id, or None for the star's switch), its two plugs as its
    command line names them, and what marks its process."""

    def __init__(self, base, left, right, ends, marker):
        self.mgmt, self.pidfile = base + ".mgmt", base + ".pid"
        self.left, self.right = left, right
        self.ends, self.marker = ends, marker


class Lan:
    """The switch or multilinks, hubs and wires of the nodes in STATE_DIR
    (node N's files in STATE_DIR/N)."""

    def __init__(self, state_dir):
        self.state_dir = state_dir

    def path(self, name, node=None):
        if node is None:
            return os.path.join(self.state_dir, name)
        return os.path.join(self.state_dir, str(int(node)), name)

    def hub(self, node):
        """The socket of NODE's hub, where its QEMU plugs in."""
        return self.path("nic.sw", node)

    # ---- the shape ---------------------------------------------------------

    def shape(self):
        try:
            with open(self.path("lan.json")) as f:
                shape = json.load(f).get("shape")
        except (OSError, ValueError, AttributeError):
            return "star"
        return shape if shape in SHAPES else "star"

    def set_shape(self, shape, nodes):
        """Use SHAPE from now on (at `up`, no node running): the daemons of
        the other shape, left by a cluster that was not brought down, are
        stopped first."""
        if shape not in SHAPES:
            raise QsnetError("the LAN is a star or a mesh, not %r" % shape)
        if shape != self.shape():
            self.down(nodes)
        os.makedirs(self.state_dir, exist_ok=True)
        with open(self.path("lan.json"), "w") as f:
            json.dump({"shape": shape}, f)

    # ---- daemons -----------------------------------------------------------

    @staticmethod
    def _pid(pidfile, marker):
        return pidfile_process(pidfile, marker.encode())

    def _daemon(self, argv, pidfile, marker, ready):
        """Start a daemonizing program unless it already runs; wait until
        the path READY exists (its socket)."""
        if self._pid(pidfile, marker):
            return
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(ready) and self._pid(pidfile, marker)):
            if r.returncode or time.monotonic() > deadline:
                raise QsnetError("%s failed to start (status %d): %s" % (
                    argv[0], r.returncode, (r.stderr or r.stdout).strip()))
            time.sleep(POLL)

    def _stop_daemon(self, pidfile, marker):
        pid = self._pid(pidfile, marker)
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while self._pid(pidfile, marker):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    break
                time.sleep(POLL)
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass

    # ---- the wires ---------------------------------------------------------

    def mesh(self, node):
        """NODE's multilink (mesh shape)."""
        return self.path("mesh", node)

    def _meshed(self, node):
        return self._pid(self.path("mesh.pid", node), self.mesh(node))

    def star_wire(self, node):
        """The star's wire of NODE: left the switch, right the node."""
        return Wire(self.path("wire", node), None, node,
                    "%s:%s" % (self.path("lan.sw"), self.hub(node)),
                    self.hub(node))

    def pair_wire(self, a, b):
        """The mesh's wire between A and B: left the lower id."""
        a, b = sorted((int(a), int(b)))
        ends = "%s:%s" % (self.mesh(a), self.mesh(b))
        return Wire(self.path("wire-%d-%d" % (a, b)), a, b, ends, ends)

    def _pair_wires(self):
        """The mesh's wires that have a pid file: [(a, b)]."""
        pairs = []
        for p in glob.glob(self.path("wire-*-*.pid")):
            m = re.fullmatch(r"wire-(\d+)-(\d+)\.pid", os.path.basename(p))
            if m:
                pairs.append((int(m.group(1)), int(m.group(2))))
        return sorted(pairs)

    def wires(self, node):
        """The wires running now that carry NODE's frames."""
        if self.shape() == "star":
            ws = [self.star_wire(node)]
        else:
            ws = [self.pair_wire(a, b) for a, b in self._pair_wires()
                  if node in (a, b)]
        return [w for w in ws if self._pid(w.pidfile, w.marker)]

    def _start_wire(self, w):
        self._daemon(["wirefilter", "-v", w.ends, "-M", w.mgmt, "--daemon",
                      "--pidfile", w.pidfile], w.pidfile, w.marker, w.mgmt)

    # ---- plugging in and out -----------------------------------------------

    def wire_up(self, node):
        """NODE's hub and what joins it to the others, each started unless
        it already runs: star, the switch and NODE's wire; mesh, NODE's
        multilink and a wire to each node whose multilink runs. The wires
        get the settings there are."""
        os.makedirs(os.path.dirname(self.hub(node)), exist_ok=True)
        hub = self.hub(node)
        self._daemon(["vde_switch", "-x", "-s", hub, "-d",
                      "-p", self.path("nic.pid", node)],
                     self.path("nic.pid", node), hub, os.path.join(hub, "ctl"))
        if self.shape() == "star":
            lan = self.path("lan.sw")
            self._daemon(["vde_switch", "-s", lan, "-d",
                          "-p", self.path("lan.pid")],
                         self.path("lan.pid"), lan, os.path.join(lan, "ctl"))
            self._start_wire(self.star_wire(node))
        else:
            mesh = self.mesh(node)
            self._daemon(["vde_plug", "-d", "-p", self.path("mesh.pid", node),
                          "vde://" + hub, "multi://" + mesh],
                         self.path("mesh.pid", node), mesh,
                         os.path.join(mesh, "ctl"))
            for peer in self._peers(node):
                if self._meshed(peer):
                    self._start_wire(self.pair_wire(node, peer))
        self.apply(node)

    def _peers(self, node):
        """The other nodes with a state directory."""
        if not os.path.isdir(self.state_dir):
            return []
        return sorted(int(d) for d in os.listdir(self.state_dir)
                      if d.isdigit() and int(d) != int(node))

    def down(self, nodes):
        """Stop every wire, multilink and hub, and the switch; forget the
        settings."""
        for a, b in self._pair_wires():
            w = self.pair_wire(a, b)
            self._stop_daemon(w.pidfile, w.marker)
        for n in nodes:
            w = self.star_wire(n)
            self._stop_daemon(w.pidfile, w.marker)
            self._stop_daemon(self.path("mesh.pid", n), self.mesh(n))
            self._stop_daemon(self.path("nic.pid", n), self.hub(n))
            try:
                os.unlink(self.path("wire.json", n))
            except FileNotFoundError:
                pass
        self._stop_daemon(self.path("lan.pid"), self.path("lan.sw"))
        try:
            os.unlink(self.path("cuts.json"))
        except FileNotFoundError:
            pass

    # ---- the settings ------------------------------------------------------

    def wire(self, node):
        """NODE's settings: loss, dup (percent), delay, jitter (ms), down
        (cable out), cut_in and cut_out (one direction carries nothing: to
        the node, from the node)."""
        try:
            with open(self.path("wire.json", node)) as f:
                return dict(PLAIN, **json.load(f))
        except (OSError, ValueError, TypeError):
            return dict(PLAIN)

    def cuts(self):
        """The cut directions between pairs: a set of (from, to)."""
        try:
            with open(self.path("cuts.json")) as f:
                return {(int(a), int(b)) for a, b in json.load(f)}
        except (OSError, ValueError, TypeError):
            return set()

    def hop(self, src, dst):
        """What a frame from SRC to DST meets (None: the star's switch,
        which impairs nothing): (loss, dup, delay, jitter), loss 100 when it
        cannot pass."""
        s = PLAIN if src is None else self.wire(src)
        d = PLAIN if dst is None else self.wire(dst)
        if (s["down"] or d["down"] or s["cut_out"] or d["cut_in"] or
                (src, dst) in self.cuts()):
            return 100, 0, 0, 0
        loss = 100 * (1 - (1 - s["loss"] / 100) * (1 - d["loss"] / 100))
        dup = 100 * (1 - (1 - s["dup"] / 100) * (1 - d["dup"] / 100))
        return (loss, dup, s["delay"] + d["delay"],
                s["jitter"] + d["jitter"])

    def cut(self, node):
        """NODE hears nothing and is heard by no one: cable out, all frames
        lost, or its wire cut both ways."""
        w = self.wire(node)
        return w["down"] or w["loss"] >= 100 or (w["cut_in"] and
                                                 w["cut_out"])

    def carries(self, a, b):
        """Frames can pass between A and B both ways (perhaps some lost)."""
        return self.hop(a, b)[0] < 100 and self.hop(b, a)[0] < 100

    def apply(self, node):
        """Set every wire of NODE that runs to the settings there are."""
        if not (self._meshed(node) if self.shape() == "mesh" else
                self.wires(node)):
            raise QsnetError("node %d has no wire (is the cluster up?)"
                             % node)
        for w in self.wires(node):
            cmds, fifo = [], 1
            # a wire's left to right (LR) carries from its left end to its
            # right end, right to left (RL) back
            for way, src, dst in (("LR", w.left, w.right),
                                  ("RL", w.right, w.left)):
                loss, dup, delay, jitter = self.hop(src, dst)
                cmds += ["loss %s%g" % (way, loss), "dup %s%g" % (way, dup),
                         "delay %s%g+%g" % (way, delay, jitter) if jitter
                         else "delay %s%g" % (way, delay)]
                fifo = fifo and not jitter
            self._wirefilter(w, cmds + ["fifo %d" % fifo])

    def set_wire(self, node, **changes):
        """Update NODE's settings (N/wire.json) and apply them."""
        w = self.wire(node)
        w.update(changes)
        os.makedirs(os.path.dirname(self.path("wire.json", node)),
                    exist_ok=True)
        with open(self.path("wire.json", node), "w") as f:
            json.dump(w, f)
        self.apply(node)

    def netem(self, node, loss=0.0, dup=0.0, delay=0, jitter=0):
        """Set the impairments of NODE's frames, both directions: loss and
        dup in percent, delay and jitter in ms (with jitter, frames may be
        reordered). All zero: a plain cable again. They last until changed,
        across restart-node, until `down`."""
        if not (0 <= loss <= 100 and 0 <= dup < 100 and delay >= 0 and
                jitter >= 0):
            raise QsnetError("netem: --loss 0 to 100, --dup 0 to below 100 "
                             "(percent), --delay and --jitter >= 0 (ms)")
        if jitter > delay:
            raise QsnetError("netem: jitter %g ms exceeds delay %g ms "
                             "(wirefilter's delay is DELAY+-JITTER)"
                             % (jitter, delay))
        self.set_wire(node, loss=loss, dup=dup, delay=delay, jitter=jitter)

    def cut_oneway(self, node, inbound=False, outbound=False):
        """Cut NODE off in one direction or both, at the wires only (the
        guest's link stays up): INBOUND, nothing reaches the node; OUTBOUND,
        nothing it sends leaves. Both False: both directions carry again
        (the other impairments stay). Kept as netem's settings are."""
        self.set_wire(node, cut_in=bool(inbound), cut_out=bool(outbound))

    def cut_pair(self, node, peer, inbound=False, outbound=False):
        """Cut what passes between NODE and PEER only (mesh shape):
        INBOUND, nothing from PEER reaches NODE; OUTBOUND, nothing NODE
        sends reaches PEER. Both False: both directions between them carry
        again. Kept until `down`."""
        node, peer = int(node), int(peer)
        if self.shape() != "mesh":
            raise QsnetError("a cut between two nodes needs the mesh LAN "
                             "(`qsnet up --lan mesh`): on the star, a cut "
                             "cuts a node off from all the others")
        if node == peer:
            raise QsnetError("cut: node %d and peer %d are the same node"
                             % (node, peer))
        w = self.pair_wire(node, peer)
        if not self._pid(w.pidfile, w.marker):
            raise QsnetError("no wire between nodes %d and %d (is the "
                             "cluster up?)" % (node, peer))
        cuts = self.cuts() - {(peer, node), (node, peer)}
        if inbound:
            cuts.add((peer, node))
        if outbound:
            cuts.add((node, peer))
        with open(self.path("cuts.json"), "w") as f:
            json.dump(sorted(cuts), f)
        self.apply(node)

    def _wirefilter(self, w, cmds):
        """Run management commands on the wire W."""
        with connect_unix(w.mgmt, 10) as s:
            buf = b""

            def answer():
                nonlocal buf
                while b"VDEwf$ " not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise QsnetError("wirefilter closed its management "
                                         "socket")
                    buf += chunk
                text, buf = buf.split(b"VDEwf$ ", 1)
                return text.decode(errors="replace")

            answer()  # banner
            for cmd in cmds:
                s.sendall(cmd.encode() + b"\n")
                reply = answer()
                if "1000 Success" not in reply:
                    raise QsnetError("wirefilter %r: %s" % (cmd, reply.strip()))
