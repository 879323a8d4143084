"""qsnet - run and drive a cluster of Quicksilver nodes in QEMU (i386, TCG).

usage: qsnet VERB [ARGS]

verbs:
  up [-n N] [--conf NAME] [--arg KEY=VALUE]... [--gdb] [--iso PATH] [--timeout S]
     [--icount] [--key FILE] [--lan star|mesh] [--disk-iops N]
                        start nodes 0..N-1 and wait until the cluster has
                        formed: every shell prompt is up and every node's
                        CM sees every node up (`nodes`; a configuration
                        without a CM: the prompts only);
                        --arg sets a boot argument (fw_cfg opt/qs/KEY);
                        --icount runs them under -icount shift=0 (rdtsc
                        counts instructions; idle time still passes in
                        real time), as `make bench` does;
                        --key FILE: the cluster key (below);
                        --lan: the LAN's shape (below), star by default;
                        --disk-iops N: each disk completes at most N
                        requests a second (QEMU's throttling), as a disk
                        whose writes and syncs take real time
  down                  stop all nodes (QMP quit, then SIGKILL); keeps disks/logs
  status                one line per node: id, running/stopped, QEMU pid
  console NODE          attach to a node's serial console (detach: Ctrl-])
  exec NODE 'CMD' [--timeout S]
                        run one shell command, print its output
                        (exit 0 ok, 1 error, 2 timeout)
  screenshot NODE FILE.png
                        save the node's VGA screen as PNG
  kill-node NODE        SIGKILL the node's QEMU (no clean shutdown)
  restart-node NODE [--arg KEY=VALUE]...
                        start a stopped node again with its stored options
                        (--arg: a boot argument for this start only); waits
                        for its prompt, until it sees the running nodes up
                        and they see it up
  wait-prompt NODE [--timeout S]
                        wait until the node's shell prompt has appeared
  tree TXID [-o FILE.png] [--timeout S]
                        draw transaction TXID (NODE.INCARNATION.COUNTER) as
                        the running nodes' `tx` and `ps` show it: a box per
                        node with a record (state, coordinator), its
                        participants and owner inside, superior ->
                        subordinate arrows; writes FILE.png (default
                        tree-TXID.png) and FILE.dot (Graphviz `dot`)
  link NODE down|up     pull the node's network cable out, or plug it in
                        (QMP set_link on its e1000: the guest sees the link
                        change; the wire drops every frame while it is
                        down; a restarted node starts with its link up)
  netem NODE [--loss P] [--dup P] [--delay MS] [--jitter MS]
                        impair the node's wire, both directions: percent of
                        frames lost and duplicated, delay DELAY+-JITTER ms
                        (jitter reorders); no options: a plain cable again.
                        Kept across restart-node (N/wire.json), until down.
  cut NODE in|out|both|none [--peer P]
                        cut the node off one way (in: nothing reaches the
                        node; out: nothing it sends leaves) or both, at the
                        wirefilters (the guest's link stays up); none: both
                        ways carry again. With --peer (mesh LAN only): only
                        between NODE and P, both still reaching the others
                        (in: nothing from P reaches NODE; out: nothing from
                        NODE reaches P). Kept as netem's.

The LAN: every node has a hub of its own (N/nic.sw), where its e1000 (MAC
52:54:00:12:34:NN, NN the id in hex) plugs in through QEMU's vde netdev:
  vde_switch -x -s STATE/N/nic.sw -d -p STATE/N/nic.pid
  qemu-system-i386 ... -netdev vde,id=lan,sock=STATE/N/nic.sw
             -device e1000,netdev=lan,id=nic,mac=52:54:00:12:34:NN -nic none
`up --lan star` (the default) joins the hubs through one vde_switch, each
by a wirefilter of its own (N/wire.mgmt is its management socket, which
`netem`, `cut` and `link` talk to): a cut cuts a node off from all others.
  vde_switch -s STATE/lan.sw -d -p STATE/lan.pid
  wirefilter -v STATE/lan.sw:STATE/N/nic.sw -M STATE/N/wire.mgmt --daemon
             --pidfile STATE/N/wire.pid
`up --lan mesh` joins each pair of nodes A < B by a wirefilter of its own,
between the nodes' multilinks (what a node sends goes out on each of its
links; what comes in goes to the node only), so that one pair can be cut
apart while both still reach the others; each frame crosses N-1 wires, so
it is for small clusters:
  vde_plug -d -p STATE/N/mesh.pid vde://STATE/N/nic.sw multi://STATE/N/mesh
  wirefilter -v STATE/A/mesh:STATE/B/mesh -M STATE/wire-A-B.mgmt --daemon
             --pidfile STATE/wire-A-B.pid
Never QEMU's user networking, never tap. kill-node leaves the hub and the
wires running, so restart-node plugs the node in where it was; `down` stops
them all and forgets netem's and cut's settings.

State lives in ROOT/build/nodes/N/ (override with env QSNET_STATE; a relative
path is taken relative to the project root): console.sock, qmp.sock,
console.log (previous run's log in console.log.1), qemu.pid, disk.img (the IDE
disk), pmem.img (the persistent memory), incarnation (starts so far), node.json;
and STATE/key, the cluster key every node gets (fw_cfg opt/qs/key, a file):
made at the first `up` from the host's random source, or copied from
`up --key FILE`. The CMs authenticate every packet with it.

The console is a single-client socket: while `console` is attached, `exec`
on that node waits and times out (exit 2), and QEMU may later still take one
character of that command into the shell once the console is free.
restart-node does not ask a node whose console is attached whom it sees
(it says so on stderr).
"""

import argparse
import os
import re
import sys

from .cluster import Cluster
from .errors import QsnetClosed, QsnetError, QsnetTimeout
from .parsers import TXID_RE
from .tree import build_tree, write_tree


CUTS = ("in", "out", "both", "none")


def build_parser():
    p = argparse.ArgumentParser(
        prog="qsnet", description="Run Quicksilver nodes in QEMU.",
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    c = sub.add_parser("up", help="start N nodes and wait until they see each "
                       "other")
    c.add_argument("-n", type=int, default=1, help="number of nodes (1)")
    c.add_argument("--conf", help="init config name (fw_cfg opt/qs/conf)")
    c.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                   help="boot argument for every node (fw_cfg opt/qs/KEY)")
    c.add_argument("--gdb", action="store_true",
                   help="node 0 waits for gdb on :1234 (-s -S)")
    c.add_argument("--iso", help="ISO to boot (default build/qs.iso)")
    c.add_argument("--timeout", type=float, default=120)
    c.add_argument("--disk-iops", type=int, metavar="N",
                   help="each node's disk completes at most N requests a "
                   "second (QEMU throttling.iops-total)")
    c.add_argument("--icount", action="store_true",
                   help="run under -icount shift=0 (rdtsc counts "
                   "instructions)")
    c.add_argument("--key", metavar="FILE",
                   help="the cluster key: a file of 64 hex digits, copied "
                   "to STATE/key (default: the one there, or a new random "
                   "one)")
    c.add_argument("--lan", choices=("star", "mesh"), default="star",
                   help="the LAN: one switch (star, the default) or a "
                   "wire per pair of nodes (mesh: pairs can be cut apart)")
    sub.add_parser("down", help="stop all nodes (keeps disks and logs)")
    sub.add_parser("status", help="show each node's state and QEMU pid")
    c = sub.add_parser("console", help="attach to a console; Ctrl-] detaches")
    c.add_argument("node", type=int)
    c = sub.add_parser("exec", help="run one shell command, print its output")
    c.add_argument("node", type=int)
    c.add_argument("command")
    c.add_argument("--timeout", type=float, default=60)
    c = sub.add_parser("screenshot", help="save the VGA screen as PNG")
    c.add_argument("node", type=int)
    c.add_argument("file")
    c = sub.add_parser("kill-node", help="SIGKILL a node's QEMU")
    c.add_argument("node", type=int)
    c = sub.add_parser("restart-node", help="start a stopped node again")
    c.add_argument("node", type=int)
    c.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                   help="boot argument for this start only")
    c.add_argument("--timeout", type=float, default=120)
    c = sub.add_parser("link", help="plug a node's cable out or in")
    c.add_argument("node", type=int)
    c.add_argument("state", choices=("down", "up"))
    c = sub.add_parser("netem", help="loss, duplication, delay on a wire")
    c.add_argument("node", type=int)
    c.add_argument("--loss", type=float, default=0, metavar="P")
    c.add_argument("--dup", type=float, default=0, metavar="P")
    c.add_argument("--delay", type=float, default=0, metavar="MS")
    c.add_argument("--jitter", type=float, default=0, metavar="MS")
    c = sub.add_parser("cut", help="cut a node's wire one way or both")
    c.add_argument("node", type=int)
    c.add_argument("direction", choices=CUTS)
    c.add_argument("--peer", type=int, metavar="P",
                   help="only between NODE and P (mesh LAN)")
    c = sub.add_parser("tree", help="draw a transaction's tree (PNG)")
    c.add_argument("txid", help="NODE.INCARNATION.COUNTER")
    c.add_argument("-o", dest="output", metavar="FILE.png",
                   help="default tree-TXID.png here; FILE.dot next to it")
    c.add_argument("--timeout", type=float, default=60)
    c = sub.add_parser("wait-prompt", help="wait for a node's shell prompt")
    c.add_argument("node", type=int)
    c.add_argument("--timeout", type=float, default=120)
    return p


def rel(path):
    r = os.path.relpath(path)
    return path if r.startswith("../..") else r


def tree_verb(cl, txid, output=None, timeout=60):
    """`qsnet tree`: collect, draw, print the paths; returns the exit code."""
    if not TXID_RE.fullmatch(txid):
        print("usage: qsnet tree TXID [-o FILE.png]\n"
              "qsnet: tree: bad transaction id %r: want NODE.INCARNATION."
              "COUNTER, e.g. 0.3.17" % txid, file=sys.stderr)
        return 1
    outputs = cl.tx_outputs(timeout)
    if not outputs:
        print("qsnet: no node is running", file=sys.stderr)
    tree = build_tree(txid, outputs)
    if tree is None:
        print("qsnet: no node has a record of %s" % txid, file=sys.stderr)
        return 1
    png, dot = write_tree(tree, output or "tree-%s.png" % txid)
    print(rel(os.path.abspath(png)))
    print(rel(os.path.abspath(dot)))
    return 0


def parse_args_kv(pairs):
    """--arg KEY=VALUE options as a dict of boot arguments."""
    boot_args = {}
    for kv in pairs:
        key, sep, value = kv.partition("=")
        if not sep or not re.fullmatch(r"[a-z0-9_]{1,40}", key):
            raise QsnetError("--arg wants KEY=VALUE, got %r" % kv)
        boot_args[key] = value
    return boot_args


def main(argv=None):
    a = build_parser().parse_args(argv)
    cl = Cluster()
    try:
        if a.verb == "up":
            pids = cl.up(a.n, conf=a.conf, gdb=a.gdb, iso=a.iso,
                         timeout=a.timeout, args=parse_args_kv(a.arg),
                         icount=a.icount, key=a.key, lan=a.lan,
                         disk_iops=a.disk_iops)
            for i, pid in enumerate(pids):
                state = ("waiting for gdb" if a.gdb and i == 0 else "up")
                print("node %d %s: pid %d, log %s" % (
                    i, state, pid, rel(cl.path(i, "console.log"))))
            if a.gdb:
                print("attach with: gdb build/kernel.elf -ex "
                      "'target remote :1234'")
        elif a.verb == "down":
            cl.down()
            print("all nodes stopped")
        elif a.verb == "status":
            st = cl.status()
            if not st:
                print("no nodes in %s: all stopped" % rel(cl.state_dir))
            for n, running, pid in st:
                print("node %d %s pid %s" % (n, "running" if running
                                             else "stopped", pid or "-"))
        elif a.verb == "console":
            cl.console(a.node)
        elif a.verb == "exec":
            try:
                sys.stdout.write(cl.exec(a.node, a.command, a.timeout))
            except QsnetClosed as e:  # fine if the node powered off (halt)
                if not cl._wait_gone(a.node, 10):
                    raise
                sys.stdout.write(e.output)
                print("qsnet: node %d stopped" % a.node, file=sys.stderr)
        elif a.verb == "screenshot":
            print(rel(cl.screenshot(a.node, a.file)))
        elif a.verb == "kill-node":
            cl.kill_node(a.node)
            print("node %d killed" % a.node)
        elif a.verb == "restart-node":
            pid = cl.restart_node(a.node, a.timeout, parse_args_kv(a.arg))
            print("node %d up: pid %d" % (a.node, pid))
        elif a.verb == "link":
            cl.set_link(a.node, a.state == "up")
            print("node %d link %s" % (a.node, a.state))
        elif a.verb == "netem":
            cl.netem(a.node, a.loss, a.dup, a.delay, a.jitter)
            print("node %d wire: loss %g%% dup %g%% delay %g+-%g ms"
                  % (a.node, a.loss, a.dup, a.delay, a.jitter))
        elif a.verb == "cut":
            cl.cut(a.node, a.direction, a.peer)
            if a.peer is None:
                print("node %d cut: %s" % (a.node, a.direction))
            elif a.direction == "none":
                print("nodes %d and %d: both ways carry" % (a.node, a.peer))
            else:
                print("node %d cut: %s node %d only" % (a.node, {
                    "in": "in from", "out": "out to",
                    "both": "both ways with"}[a.direction], a.peer))
        elif a.verb == "tree":
            return tree_verb(cl, a.txid, a.output, a.timeout)
        elif a.verb == "wait-prompt":
            cl.wait_prompt(a.node, a.timeout)
            print("node %d: prompt" % a.node)
    except QsnetTimeout as e:
        print("qsnet: error: %s" % e, file=sys.stderr)
        return 2
    except QsnetError as e:
        print("qsnet: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
