"""The LAN: one vde_switch for the cluster (lan.sw in the state dir). Each
node's e1000 sits on a switch of its own (N/nic.sw, a hub), joined to the
LAN by a wirefilter (`wirefilter -v lan.sw:N/nic.sw`) that passes every
frame until `netem` changes its parameters through its management socket
(N/wire.mgmt). The hub and the wire outlive the node's QEMU, so a
restarted node plugs into the same place. Only Debian's programs are in
the data path: QEMU's vde netdev, vde_switch and wirefilter."""

import json
import os
import signal
import subprocess
import time

from .errors import QsnetError
from .host import POLL, connect_unix, pidfile_process

PLAIN = {"loss": 0, "dup": 0, "delay": 0, "jitter": 0, "down": False,
         "cut_in": False, "cut_out": False}


class Lan:
    """The switch, hubs and wires of the nodes in STATE_DIR (node N's
    files in STATE_DIR/N)."""

    def __init__(self, state_dir):
        self.state_dir = state_dir

    def path(self, name, node=None):
        if node is None:
            return os.path.join(self.state_dir, name)
        return os.path.join(self.state_dir, str(int(node)), name)

    def hub(self, node):
        """The socket of NODE's hub, where its QEMU plugs in."""
        return self.path("nic.sw", node)

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

    # ---- plugging in and out ---------------------------------------------

    def wire_up(self, node):
        """The LAN switch, NODE's hub and the wire between them, each
        started unless it already runs."""
        os.makedirs(os.path.dirname(self.hub(node)), exist_ok=True)
        lan, hub = self.path("lan.sw"), self.hub(node)
        self._daemon(["vde_switch", "-s", lan, "-d",
                      "-p", self.path("lan.pid")],
                     self.path("lan.pid"), lan, os.path.join(lan, "ctl"))
        self._daemon(["vde_switch", "-x", "-s", hub, "-d",
                      "-p", self.path("nic.pid", node)],
                     self.path("nic.pid", node), hub, os.path.join(hub, "ctl"))
        self._daemon(["wirefilter", "-v", "%s:%s" % (lan, hub),
                      "-M", self.path("wire.mgmt", node), "--daemon",
                      "--pidfile", self.path("wire.pid", node)],
                     self.path("wire.pid", node), hub,
                     self.path("wire.mgmt", node))

    def down(self, nodes):
        """Stop the wires and hubs of NODES, and the LAN switch."""
        for n in nodes:
            self._stop_daemon(self.path("wire.pid", n), self.hub(n))
            self._stop_daemon(self.path("nic.pid", n), self.hub(n))
            try:
                os.unlink(self.path("wire.json", n))
            except FileNotFoundError:
                pass
        self._stop_daemon(self.path("lan.pid"), self.path("lan.sw"))

    # ---- the wire's impairments ------------------------------------------

    def wire(self, node):
        """NODE's wire settings: loss, dup (percent), delay, jitter (ms),
        down (cable out), cut_in and cut_out (one direction carries
        nothing: to the node, from the node)."""
        try:
            with open(self.path("wire.json", node)) as f:
                return dict(PLAIN, **json.load(f))
        except (OSError, ValueError):
            return dict(PLAIN)

    def cut(self, node):
        """NODE's wire carries nothing: cable out, or all frames lost."""
        w = self.wire(node)
        return w["down"] or w["loss"] >= 100 or (w["cut_in"] and
                                                 w["cut_out"])

    def set_wire(self, node, **changes):
        """Update NODE's wire settings (N/wire.json) and apply them all."""
        w = self.wire(node)
        w.update(changes)
        # the wire is `wirefilter -v lan.sw:N/nic.sw`: left to right (LR)
        # is to the node, right to left (RL) from it
        self._wirefilter(node, [
            "loss LR%g" % (100 if w["down"] or w["cut_in"] else w["loss"]),
            "loss RL%g" % (100 if w["down"] or w["cut_out"] else w["loss"]),
            "dup %g" % w["dup"],
            "delay %g+%g" % (w["delay"], w["jitter"]) if w["jitter"]
            else "delay %g" % w["delay"],
            "fifo %d" % (0 if w["jitter"] else 1)])
        with open(self.path("wire.json", node), "w") as f:
            json.dump(w, f)

    def netem(self, node, loss=0.0, dup=0.0, delay=0, jitter=0):
        """Set the impairments of NODE's wire, both directions: loss and
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
        """Cut NODE's wire in one direction or both, at the wire only (the
        guest's link stays up): INBOUND, nothing reaches the node; OUTBOUND,
        nothing it sends leaves. Both False: both directions carry again
        (the other impairments stay). Kept as netem's settings are."""
        self.set_wire(node, cut_in=bool(inbound), cut_out=bool(outbound))

    def _wirefilter(self, node, cmds):
        """Run management commands on NODE's wirefilter."""
        if not self._pid(self.path("wire.pid", node), self.hub(node)):
            raise QsnetError("node %d has no wire (is the cluster up?)" % node)
        with connect_unix(self.path("wire.mgmt", node), 10) as s:
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
