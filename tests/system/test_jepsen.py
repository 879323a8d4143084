"""Exactly once under faults, Jepsen-style, on three nodes, with a history
checker (history.py).

The counter server (counterd) runs on node 2; a client on node 0 and one
on node 1 (hcount, tests/guest/hcount.c) send it increments, each with a
unique id, pipelined, at a steady pace, and print the history: every
request's one answer (a value, or an error: outcome unknown), in the order
answered, with what was outstanding when it was sent. Meanwhile a nemesis
driven by a seeded RNG takes turns through the faults, in a random order
each round of them, each on a random node for a random time (some beyond
CM_DOWN_MS, 8 s, so that nodes are declared down and requests fail):

  - partition: the node cut off both ways (the node alone on one side);
  - one-way: the node cut off in one direction only (it hears nothing, or
    nothing it sends leaves): membership disagrees across the cut;
  - bridge: the node and another cut apart both ways, while both still
    reach the third (a partition that is not transitive: the LAN is a
    mesh, a wirefilter per pair of nodes);
  - pair one-way: one direction between the node and another cut, all
    else carrying;
  - lossy: loss, duplication, and delay with jitter (reordering);
  - link: the cable out (QMP set_link: the guest sees its link go down);
  - mixed: one node's wire lossy while another's (or the same's) is cut
    one way or both: answers lost, then forgotten by a CM that declared
    their asker down, so that its retransmissions learn "unknown";
  - restart: a client's node killed and started again (never the
    counter's: its ids live in memory only); the killed client's history
    is what it printed, what it may have sent unrecorded is unknown, and
    a new client (new ids: a new incarnation) takes over what is left.

Then, every fault healed and every client ended, history.check verifies
that every request got exactly one answer, none ran twice (the counter's
duplicates), and every acknowledged one ran exactly once (acknowledged
values all different, real-time order, acked <= value <= acked + unknown).

QS_JEPSEN_REQUESTS (10,000; make stress 100,000) sets how many increments
the clients send in all, QS_JEPSEN_SECONDS (60; make stress 300) how long
they take at their pace, QS_JEPSEN_SEED (17) the nemesis's choices: the
seed is printed, and a failure can be run again with the same faults in
the same order, though not with the same timing."""

import os
import random
import re
import time

import pytest

from history import Client, check
from qsharness import BOOT_TIMEOUT, PROG_TIMEOUT, Node, cluster_fixture
from test_counter import prog, reset, start_counterd
from test_guest import reap
from test_net import members, ping, wait_member
from test_remote import net

REQUESTS = int(os.environ.get("QS_JEPSEN_REQUESTS", 10000))
SECONDS = float(os.environ.get("QS_JEPSEN_SECONDS", 60))
SEED = int(os.environ.get("QS_JEPSEN_SEED", 17))
SERVER = 2
CLIENTS = (0, 1)
WINDOW = 64
FAULT_S = (1.0, 12.0)  # how long a fault lasts: beyond 8 s, nodes go down
CALM_S = (0.3, 2.0)    # between faults
KINDS = ("partition", "oneway", "bridge", "pairway", "lossy", "link",
         "restart", "mixed")

jepsen_cluster = cluster_fixture("test-nodes-jepsen", n=3, lan="mesh")


@pytest.fixture(scope="module")
def nodes(jepsen_cluster):
    ns = [Node(jepsen_cluster, i) for i in range(3)]
    for n in ns:
        for peer in range(3):
            if peer != n.id:
                wait_member(n, peer, "up")
    return ns


class Slot:
    """The client on one node: its runs of hcount (a new one after each
    restart of the node), REQUESTS/len(CLIENTS) requests over all."""

    def __init__(self, node, quota, rate):
        self.node, self.quota, self.rate = node, quota, rate
        self.runs = []  # finished or killed: Client objects
        self.reap = []  # pids of the runs that ended
        self.tag = self.pid = None
        self.start = 0

    def recorded(self):
        return sum(len(c.records) for c in self.runs)

    def launch(self):
        """A new hcount for what is left of the quota."""
        left = self.quota - self.recorded()
        self.tag = "n%dr%d" % (self.node.id, len(self.runs))
        self.start = self.node.log_size()
        self.pid = self.node.run("hcount -q counter@%d -r %d %s %d %d" % (
            SERVER, self.rate, self.tag, left, WINDOW))
        self.node.wait_log(r"hc %s (start|lookup)" % self.tag,
                           start=self.start)

    def running(self):
        return self.tag is not None

    def ended(self):
        """The running client has printed its end (or failed to start)."""
        log = self.node.log(self.start)
        return re.search(r"hc %s (end|lookup) " % self.tag, log) is not None

    def harvest(self, killed=False):
        """The history of the client now running, from its node's log (a
        killed node's log is read before it starts again, which starts the
        log afresh)."""
        self.runs.append(Client(self.tag, self.node.log(self.start), killed))
        if not killed:
            self.reap.append(self.pid)
        self.tag = None


class Nemesis:
    """Faults in turn, from a seeded RNG."""

    def __init__(self, cluster, slots, rng):
        self.cl, self.slots, self.rng = cluster, slots, rng
        self.deck, self.done = [], []
        self.t0 = time.monotonic()

    def say(self, what):
        line = "%7.1fs %s" % (time.monotonic() - self.t0, what)
        self.done.append(line)
        print("nemesis: " + line)

    def heal(self, node):
        for peer in range(3):
            if peer != node:
                self.cl.cut(node, "none", peer)
        self.cl.cut(node, "none")
        self.cl.netem(node)
        if self.cl.lan.wire(node)["down"]:
            self.cl.set_link(node, True)

    def hold(self, seconds):
        """Let a fault (or the calm) last SECONDS, or until every client
        has ended: then there is nothing left for it to do."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if all(s.ended() for s in self.slots.values() if s.running()):
                return
            time.sleep(min(0.5, max(0, end - time.monotonic())))

    def step(self):
        rng = self.rng
        self.hold(rng.uniform(*CALM_S))
        if not self.deck:
            self.deck = list(KINDS)
            rng.shuffle(self.deck)
        kind = self.deck.pop()
        node = rng.choice(CLIENTS if kind == "restart" else range(3))
        hold = rng.uniform(*FAULT_S)
        if kind == "partition":
            self.say("node %d cut off both ways for %.1f s" % (node, hold))
            self.cl.cut(node, "both")
        elif kind == "oneway":
            way = rng.choice(("in", "out"))
            self.say("node %d cut %s only for %.1f s" % (node, way, hold))
            self.cl.cut(node, way)
        elif kind in ("bridge", "pairway"):
            peer = rng.choice([p for p in range(3) if p != node])
            way = "both" if kind == "bridge" else rng.choice(("in", "out"))
            self.say("nodes %d and %d cut apart %s for %.1f s (node %d "
                     "reaches both)" % (node, peer, {
                         "both": "both ways", "in": "%d to %d" % (peer, node),
                         "out": "%d to %d" % (node, peer)}[way], hold,
                         3 - node - peer))
            self.cl.cut(node, way, peer)
        elif kind in ("lossy", "mixed"):
            loss, dup = rng.uniform(5, 40), rng.uniform(0, 30)
            delay = rng.uniform(0, 40)
            jitter = rng.uniform(0, delay)
            self.say("node %d loss %.0f%% dup %.0f%% delay %.0f+-%.0f ms for "
                     "%.1f s" % (node, loss, dup, delay, jitter, hold))
            self.cl.netem(node, loss, dup, delay, jitter)
            if kind == "mixed":
                other = rng.choice(range(3))
                way = rng.choice(("in", "out", "both"))
                self.say("and node %d cut %s" % (other, way))
                self.cl.cut(other, way)
                self.hold(hold)
                self.heal(other)
                self.heal(node)
                self.say("nodes %d and %d healed" % (node, other))
                return
        elif kind == "link":
            self.say("node %d link down for %.1f s" % (node, hold))
            self.cl.set_link(node, False)
        elif kind == "restart":
            slot = self.slots[node]
            if not slot.running():
                self.say("node %d: no client to kill" % node)
                return
            self.say("node %d killed under client %s" % (node, slot.tag))
            self.cl.kill_node(node)
            slot.harvest(killed=True)
            self.cl.restart_node(node, BOOT_TIMEOUT)
            self.say("node %d restarted" % node)
            if slot.recorded() < slot.quota:
                slot.launch()
            return
        self.hold(hold)
        self.heal(node)
        self.say("node %d healed" % node)


def test_a_bridge_cuts_one_pair_only(nodes, jepsen_cluster):
    """qsnet cut 0 both --peer 1 on the mesh LAN: nodes 0 and 1 declare
    each other down and cannot ping each other, while node 2 sees both up
    and both still reach it; cut none --peer heals the pair."""
    n0, n1, n2 = nodes
    jepsen_cluster.cut(0, "both", 1)
    try:
        wait_member(n0, 1, "down")
        wait_member(n1, 0, "down")
        m, _ = members(n2)
        assert m[0]["state"] == m[1]["state"] == "up", n2.exec("nodes")
        assert ping(n0, 2)[0] > 0 and ping(n1, 2)[0] > 0
        assert ping(n0, 1, 1)[0] == 0
    finally:
        jepsen_cluster.cut(0, "none", 1)
    wait_member(n0, 1, "up")
    wait_member(n1, 0, "up")
    assert ping(n0, 1)[0] > 0


def test_exactly_once_under_partitions_loss_and_restarts(nodes,
                                                         jepsen_cluster):
    rng = random.Random(SEED)
    print("QS_JEPSEN_SEED=%d QS_JEPSEN_REQUESTS=%d QS_JEPSEN_SECONDS=%g"
          % (SEED, REQUESTS, SECONDS))
    server = nodes[SERVER]
    start_counterd(server)
    reset(server)
    before = {n.id: net(n) for n in nodes}
    per_client = [REQUESTS // len(CLIENTS) +
                  (1 if k < REQUESTS % len(CLIENTS) else 0)
                  for k in range(len(CLIENTS))]
    slots = {c: Slot(nodes[c], q, max(1, int(q / SECONDS)))
             for c, q in zip(CLIENTS, per_client)}
    nemesis = Nemesis(jepsen_cluster, slots, rng)
    for s in slots.values():
        s.launch()
    deadline = time.monotonic() + SECONDS * 3 + PROG_TIMEOUT
    try:
        while any(s.running() for s in slots.values()):
            for s in slots.values():
                if s.running() and s.ended():
                    s.harvest()
            if not any(s.running() for s in slots.values()):
                break
            assert time.monotonic() < deadline, \
                "clients still running:\n" + "\n".join(nemesis.done)
            nemesis.step()
    finally:
        for n in range(3):
            nemesis.heal(n)
    for n in nodes:
        for peer in range(3):
            if peer != n.id:
                wait_member(n, peer, "up")
    final = counter_state(server)
    for s in slots.values():
        for pid in s.reap:  # the runs that ended: exit 0, all answered
            verdict = reap(s.node, pid)
            assert verdict.endswith("exited with status 0"), verdict
    runs = [c for s in slots.values() for c in s.runs]
    problems, summary = check(runs, final)
    after = {n.id: net(n) for n in nodes}
    traffic = {k: sum(after[n][k] - before[n][k] for n in after)
               for k in ("retransmits", "duplicates", "late", "stale",
                         "unreachable")}
    print("history: %s" % summary)
    print("net: %s" % traffic)
    report = "seed %d, faults:\n%s\nsummary %s\n" % (
        SEED, "\n".join(nemesis.done), summary)
    assert not problems, report + "\n".join(problems[:40])
    # and the CMs hold nothing more for it: no request in flight, and the
    # answers kept for retransmissions let go once the floors passed them
    for n in nodes:
        n.poll("node %d's CM to let go of every request" % n.id,
               lambda: (lambda s: (s["inflight"] == 0 and s["cached"] == 0,
                                   s))(net(n)))
    # enough happened for the verdict to mean something
    assert summary["answered"] >= REQUESTS, report
    assert summary["acked"] > 0 and traffic["retransmits"] > 0, report


def counter_state(server):
    """The counter's (value, ids, duplicates), even with duplicates (where
    `counterd check` exits 1)."""
    m, _, _ = prog(server, "counterd check",
                   r"counterd: value (\d+) ids (\d+) duplicates (\d+)\n")
    return tuple(map(int, m.groups()))
