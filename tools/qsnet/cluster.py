"""A cluster: the QEMU nodes sharing one state directory (node N's files
in STATE/N), their LAN, and what drives them: start and stop, QMP, the
console and its log. `up` and `restart-node` return once the cluster has
formed (see Cluster.wait_formed)."""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time

from . import console as con
from .errors import QsnetError, QsnetTimeout
from .host import POLL, connect_unix, pidfile_process
from .lan import Lan
from .parsers import no_cm, parse_nodes
from .qemu import MEMORY_MB, make_storage, qemu_argv
from .qmp import chardev_connected, qmp_call
from .screen import ppm_to_png, read_ppm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEFAULT_ISO = os.path.join(ROOT, "build", "qs.iso")
DEFAULT_STATE = os.path.join(ROOT, "build", "nodes")
MEMBERSHIP_POLL = 0.2  # seconds between rounds of `nodes` on the shells
BUSY_CHECK = 1.0  # how long a console must stay taken to count as in use


class Cluster:
    """A set of QEMU nodes sharing one state directory."""

    def __init__(self, state_dir=None, iso=None):
        state_dir = state_dir or os.environ.get("QSNET_STATE") or DEFAULT_STATE
        self.state_dir = os.path.join(ROOT, state_dir)  # no-op if absolute
        self.iso = os.path.abspath(iso) if iso else DEFAULT_ISO
        self.lan = Lan(self.state_dir)

    # ---- paths and bookkeeping -------------------------------------------

    def node_dir(self, node):
        return os.path.join(self.state_dir, str(int(node)))

    def path(self, node, name):
        return os.path.join(self.node_dir(node), name)

    def nodes(self):
        """Ids of all nodes that have a state directory with node.json."""
        if not os.path.isdir(self.state_dir):
            return []
        return sorted(int(d) for d in os.listdir(self.state_dir)
                      if d.isdigit() and
                      os.path.exists(self.path(int(d), "node.json")))

    def pid(self, node):
        """QEMU pid of NODE if it is running, else None."""
        return pidfile_process(self.path(node, "qemu.pid"),
                               b"qs-node-%d" % int(node))

    def is_running(self, node):
        return self.pid(node) is not None

    def status(self):
        """List of (id, running, pid) for every known node."""
        return [(n, self.pid(n) is not None, self.pid(n)) for n in self.nodes()]

    def options(self, node):
        """What NODE was last started with (N/node.json)."""
        try:
            with open(self.path(node, "node.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            raise QsnetError("node %d was never started (no %s)"
                             % (node, self.path(node, "node.json")))

    # ---- starting and stopping -------------------------------------------

    def key_path(self):
        """The cluster key's file, STATE/key: 64 hex digits, made at the
        cluster's first start (or given with `up --key`). Every node of the
        cluster gets it; the CMs authenticate every packet with it."""
        return os.path.join(self.state_dir, "key")

    def ensure_key(self, given=None):
        """Makes STATE/key if there is none: a copy of GIVEN (a file of 64
        hex digits), or 32 random bytes from the host's CSPRNG."""
        path = self.key_path()
        if given:
            with open(given) as f:
                key = f.read().strip()
            if not re.fullmatch(r"[0-9a-fA-F]{64}", key):
                raise QsnetError("%s: a cluster key is 64 hex digits" % given)
        elif os.path.exists(path):
            return path
        else:
            key = secrets.token_hex(32)
        os.makedirs(self.state_dir, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return path

    def qemu_argv(self, node, opts):
        """QEMU command line for NODE; paths are relative to the node dir."""
        boot_args = dict(opts.get("args") or {})
        if opts.get("conf"):
            boot_args["conf"] = opts["conf"]
        fw_cfg = [("node", int(node)),
                  ("incarnation", int(opts.get("incarnation", 0)))]
        # the node's e1000 on its own vde_switch (Lan.wire_up)
        return qemu_argv(opts["iso"], memory=opts.get("memory", MEMORY_MB),
                         disk="disk.img", pmem="pmem.img",
                         console=("console.sock", "console.log"),
                         qmp="qmp.sock",
                         boot_args=fw_cfg + sorted(boot_args.items()),
                         nic=(node, self.lan.hub(node)),
                         daemon=("qemu.pid", "qs-node-%d" % int(node)),
                         gdb=opts.get("gdb"), gdb_sock="gdb.sock",
                         icount=opts.get("icount"),
                         disk_iops=opts.get("disk_iops"),
                         key=opts.get("key", self.ensure_key()))

    def _next_incarnation(self, node):
        """Counts the node's starts in the file `incarnation`, kept with its
        disk: transaction ids carry it, so a restarted node's ids never
        repeat those its logs already hold."""
        path = self.path(node, "incarnation")
        try:
            with open(path) as f:
                n = int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            n = 0
        with open(path, "w") as f:
            f.write("%d\n" % (n + 1))
        return n + 1

    def _clean(self, node):
        for name in ("console.sock", "qmp.sock", "gdb.sock", "qemu.pid"):
            try:
                os.unlink(self.path(node, name))
            except FileNotFoundError:
                pass

    def start_node(self, node, opts, once_args=None):
        """Launch QEMU for NODE with OPTS (dict); does not wait for boot.
        ONCE_ARGS: boot arguments for this start only (not stored)."""
        if self.is_running(node):
            raise QsnetError("node %d is already running" % node)
        if not os.path.isfile(opts["iso"]):
            raise QsnetError("ISO not found: %s (run make first?)" % opts["iso"])
        d = self.node_dir(node)
        os.makedirs(d, exist_ok=True)
        self._clean(node)
        log = self.path(node, "console.log")
        if os.path.exists(log):
            os.replace(log, log + ".1")
        make_storage(d)  # once: they persist across kill and restart
        opts = dict(opts, incarnation=self._next_incarnation(node))
        self.lan.wire_up(node)
        self.lan.set_wire(node, down=False)  # a new QEMU's link is up
        argv = self.qemu_argv(node, dict(opts, args=dict(
            opts.get("args") or {}, **(once_args or {}))))
        opts = dict(opts, id=node, argv=argv)
        with open(self.path(node, "node.json"), "w") as f:
            json.dump(opts, f, indent=2)
        r = subprocess.run(argv, cwd=d, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        if r.returncode or not self.is_running(node):
            raise QsnetError("node %d: QEMU failed to start (status %d): %s"
                             % (node, r.returncode, r.stderr.strip()))
        return self.pid(node)

    def up(self, n=1, conf=None, gdb=False, iso=None, timeout=120, args=None,
           icount=False, wait=True, key=None, lan="star", disk_iops=None):
        """Start nodes 0..n-1 on a LAN of shape LAN (star or mesh, see
        lan.py) and wait until the cluster has formed: every prompt is up
        and every CM sees every node up (not node 0 with gdb, which is
        stopped at the first instruction; nothing without WAIT, for
        configurations without a shell). Returns pids."""
        running = [i for i in self.nodes() if self.is_running(i)]
        if running:
            raise QsnetError("nodes already running: %s (use down first)"
                             % ", ".join(map(str, running)))
        iso = os.path.abspath(iso) if iso else self.iso
        self.ensure_key(key)
        self.lan.set_shape(lan, self.nodes())
        pids = []
        for i in range(n):
            opts = {"iso": iso, "conf": conf, "gdb": bool(gdb and i == 0),
                    "memory": MEMORY_MB, "args": args or {},
                    "icount": bool(icount), "disk_iops": disk_iops}
            pids.append(self.start_node(i, opts))
        if not wait:
            return pids
        deadline = time.monotonic() + timeout
        shells = [i for i in range(n) if not (gdb and i == 0)]
        try:
            for i in shells:
                self.wait_prompt(i, max(1, deadline - time.monotonic()))
            self.wait_formed(shells, max(1, deadline - time.monotonic()))
        except QsnetTimeout as e:
            raise QsnetTimeout("%s\n(nodes left running for inspection; "
                               "`qsnet down` stops them)" % e)
        return pids

    def restart_node(self, node, timeout=120, once_args=None):
        """Start a stopped node again with the options stored at up (and
        ONCE_ARGS, boot arguments for this start only); wait until its
        prompt is up, it sees the other running nodes up and they see it
        up in its new incarnation."""
        opts = self.options(node)
        self.start_node(node, opts, once_args)
        if not opts.get("gdb"):
            deadline = time.monotonic() + timeout
            self.wait_prompt(node, timeout)
            others = [n for n in self.nodes() if n != node and
                      self.is_running(n) and not self.options(n).get("gdb")]
            self.wait_formed([node] + others,
                             max(1, deadline - time.monotonic()), focus=node)
        return self.pid(node)

    def _wait_gone(self, node, timeout):
        deadline = time.monotonic() + timeout
        while self.is_running(node):
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL)
        return True

    def kill_node(self, node):
        pid = self.pid(node)
        if pid is None:
            raise QsnetError("node %d is not running" % node)
        os.kill(pid, signal.SIGKILL)
        self._wait_gone(node, 10)
        self._clean(node)

    def down(self):
        """Stop every node: QMP quit, then SIGKILL what is left; then the
        LAN."""
        nodes = self.nodes()
        for n in nodes:
            if self.is_running(n):
                try:
                    self.qmp(n, "quit", timeout=5)
                except (OSError, QsnetError, ValueError):
                    pass
        for n in nodes:
            if not self._wait_gone(n, 10):
                try:
                    os.kill(self.pid(n), signal.SIGKILL)
                except (TypeError, OSError):
                    pass
                self._wait_gone(n, 10)
            self._clean(n)
        self.lan.down(nodes)

    # ---- the cluster forming ---------------------------------------------

    def _console_in_use(self, node):
        """Whether another client (a `qsnet console`) holds NODE's console:
        taken for BUSY_CHECK seconds on end (a connection just closed, ours
        too, may still count as taken for a moment)."""
        deadline = time.monotonic() + BUSY_CHECK
        while chardev_connected(self.path(node, "qmp.sock"), "con"):
            if time.monotonic() > deadline:
                return True
            time.sleep(POLL)
        return False

    def _askers(self, nodes, focus):
        """Those of NODES to ask whom they see: all but those whose console
        another client holds (they are left out, with a note)."""
        askers = set()
        for n in nodes:
            if n != focus and self._console_in_use(n):
                print("qsnet: note: node %d's console is in use: not asking "
                      "it whom it sees" % n, file=sys.stderr)
            else:
                askers.add(n)
        return askers

    def wait_formed(self, nodes, timeout=120, focus=None):
        """Wait until the nodes NODES (prompts up) have formed a cluster:
        the CM of each sees every one of them up, in the incarnation it
        runs now, by asking each shell `nodes` until it says so. With FOCUS
        (a node that has just started) only the pairs with FOCUS count:
        FOCUS sees the others, they see FOCUS. Left out: nodes without a CM
        (`nodes` says so; their configuration starts none), nodes whose
        wire is cut (`link down`, `netem --loss 100`), pairs cut apart
        (`cut --peer`), and, as askers only, nodes whose console another
        client holds."""
        nodes = [n for n in nodes if not self.lan.cut(n)]
        if focus is not None and focus not in nodes:
            return
        inc = {n: self.options(n).get("incarnation") for n in nodes}
        deadline = time.monotonic() + timeout
        askers, cmless, views = self._askers(nodes, focus), set(), {}
        while True:
            for n in sorted(askers):
                out = self.exec(n, "nodes", max(1, deadline - time.monotonic()))
                if no_cm(out):
                    cmless.add(n)
                else:
                    views[n] = parse_nodes(out)[0]
            members = [n for n in nodes if n not in cmless]
            missing = {}
            for n in sorted(askers - cmless):
                targets = members if focus in (None, n) else \
                    [t for t in (focus,) if t in members]
                lacking = [t for t in targets if self.lan.carries(n, t) and
                           not _sees(views[n], t, inc[t])]
                if lacking:
                    missing[n] = lacking
            askers = set(missing)
            if not askers:
                return
            if time.monotonic() > deadline:
                raise QsnetTimeout(_not_formed(timeout, missing, views, inc))
            time.sleep(MEMBERSHIP_POLL)  # poll interval, not a wait for it

    # ---- the LAN -----------------------------------------------------------

    def set_link(self, node, up):
        """Plug NODE's cable in or out. QMP set_link makes the guest see the
        link go down or up; the wire drops everything while it is down,
        since QEMU would only hold the frames that come meanwhile (its
        e1000 stops reading them) and hand them over when the link is back."""
        self.qmp(node, "set_link", {"name": "nic", "up": bool(up)})
        self.lan.set_wire(node, down=not up)

    def netem(self, node, loss=0.0, dup=0.0, delay=0, jitter=0):
        """Impair NODE's wire (Lan.netem)."""
        self.lan.netem(node, loss, dup, delay, jitter)

    def cut(self, node, direction, peer=None):
        """Cut NODE off at the wires: "in" (nothing reaches the node), "out"
        (nothing it sends leaves), "both", or "none" (Lan.cut_oneway); with
        PEER, only what passes between NODE and PEER (Lan.cut_pair, the
        mesh LAN). The guest's link stays up, unlike set_link."""
        if direction not in ("in", "out", "both", "none"):
            raise QsnetError("cut: in, out, both or none, not %r" % direction)
        ways = dict(inbound=direction in ("in", "both"),
                    outbound=direction in ("out", "both"))
        if peer is None:
            self.lan.cut_oneway(node, **ways)
        else:
            self.lan.cut_pair(node, peer, **ways)

    # ---- QMP and the screen ----------------------------------------------

    def qmp(self, node, cmd, args=None, timeout=30):
        """Run one QMP command; returns its "return" value."""
        if not self.is_running(node):
            raise QsnetError("node %d is not running" % node)
        return qmp_call(self.path(node, "qmp.sock"), cmd, args, timeout)

    def screenshot(self, node, png_path):
        png_path = os.path.abspath(png_path)  # daemonized QEMU's cwd is /
        try:
            self.qmp(node, "screendump", {"filename": png_path, "format": "png"})
        except QsnetError:
            ppm = png_path + ".ppm"
            self.qmp(node, "screendump", {"filename": ppm})
            try:
                with open(ppm, "rb") as f:
                    ppm_to_png(f.read(), png_path)
            finally:
                os.unlink(ppm)
        return png_path

    def screen(self, node, ppm_path):
        """What NODE shows now, as a Screen (through PPM_PATH, kept)."""
        ppm_path = os.path.abspath(ppm_path)
        self.qmp(node, "screendump", {"filename": ppm_path})
        with open(ppm_path, "rb") as f:
            return read_ppm(f.read())

    # ---- console log ---------------------------------------------------

    def console_log(self, node):
        return con.ConsoleLog(self.path(node, "console.log"))

    def log_size(self, node):
        return self.console_log(node).size()

    def log(self, node, start=0):
        """Console log text from byte offset START, with \\r removed."""
        return self.console_log(node).read(start)

    def log_tail(self, node, lines=25):
        return self.console_log(node).tail(lines)

    def wait_log(self, node, regex, timeout=60, start=0):
        """Wait until REGEX (str or compiled; str gets re.M) matches the log
        text after byte offset START; returns the match object."""
        return self.console_log(node).wait(
            regex, timeout, start, lambda: self.is_running(node), node)

    def wait_prompt(self, node, timeout=120, start=0):
        """Wait until node's prompt `qsN> ` has appeared in the log (the log
        starts fresh at each node start, so start=0 means: since boot)."""
        return self.wait_log(node, con.prompt_regex(node), timeout, start)

    # ---- console socket ------------------------------------------------

    def _console(self, node, timeout):
        if not self.is_running(node):
            raise QsnetError("node %d is not running" % node)
        try:
            return connect_unix(self.path(node, "console.sock"), timeout)
        except OSError as e:
            raise QsnetError("node %d: cannot connect to console: %s"
                             % (node, e))

    def send_raw(self, node, data, timeout=30):
        """Send bytes to the console as typed, without adding "\\r". Returns
        once QEMU has taken all of them (into the guest UART)."""
        with self._console(node, timeout) as s:
            con.send_raw(s, data, timeout, node)

    def exec(self, node, cmd, timeout=60):
        """Type CMD + "\\r" on the console, return the shell's output for it
        (echoed command line and final prompt removed, "\\r\\n" -> "\\n")."""
        with self._console(node, timeout) as s:
            return con.run_command(s, node, cmd, timeout)

    def tx_outputs(self, timeout=60):
        """`tx` and `ps` of every running node: {node: (tx, ps)}. A node
        whose shell does not answer is left out, with a warning."""
        outputs = {}
        for n, running, _ in self.status():
            if not running:
                continue
            try:
                outputs[n] = (self.exec(n, "tx", timeout),
                              self.exec(n, "ps", timeout))
            except QsnetError as e:
                print("qsnet: warning: node %d left out: %s"
                      % (n, str(e).split("\n")[0]), file=sys.stderr)
        return outputs

    def console(self, node):
        """Interactive relay between the terminal and the node console."""
        s = self._console(node, 10)
        backlog = "\n".join(self.log(node)[-2000:].split("\n")[-12:])
        con.relay(s, node, backlog)


def _sees(view, node, inc):
    """Whether VIEW (parse_nodes) has NODE up in incarnation INC."""
    row = view.get(node)
    return row is not None and row["state"] == "up" and row["inc"] == inc


def _not_formed(timeout, missing, views, inc):
    """Why the cluster did not form: whom each node misses, whom it sees."""
    why = []
    for n, lacking in sorted(missing.items()):
        seen = ", ".join("%d %s (incarnation %d)" % (t, v["state"], v["inc"])
                         for t, v in sorted(views[n].items()))
        why.append("node %d does not see %s up (it sees: %s)" % (
            n, ", ".join("%d (incarnation %s)" % (t, inc[t]) for t in lacking),
            seen or "none"))
    return "the cluster did not form within %.0fs: %s" % (timeout,
                                                          "; ".join(why))
