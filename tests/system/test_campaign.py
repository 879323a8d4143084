"""The random campaign (issue 19): 100 random kills of clients, servers and
whole nodes on 3 nodes, during the `chain` and `count` workloads.

The workloads:
  - `chain -also fs@2 -slots K` on node 0 runs round after round, each a
    transaction that opens a log window on node 2's window manager
    (through node 1's file server) and writes one of K files on node 1's
    file server and the same file on node 2's: two recoverable nodes that
    must agree. The file's lines name the transaction that wrote it last.
  - `hcount` (tests/guest/hcount.c) on nodes 0 and 1 sends increments to
    the counter server on node 2, each with a unique id, pipelined, and
    prints every request's one answer; runs of RUN_N, one after another.

After a random delay the test kills one of:
  - the chain client (started again when it is gone);
  - a count client (its history is what it printed; a new run goes on);
  - a server, with `svc kill` (init, watching it, starts it again): the
    file servers of nodes 1 and 2, node 2's window manager, the disk
    servers of nodes 1 and 2, any node's echod; one killed less than
    SPACING_S ago is left alone, so that init, which gives up on the 5th
    death in 30 s, never does;
  - a whole node, 0 or 1, restarted at once. Never node 2: the counter's
    ids live in its memory only.
The random points fall anywhere: before, during and after either phase of
the commit, at either file server, during a server's or a node's
recovery.

Then, with every node up and every service back:
  - every transaction's outcome is the same at all its participants: each
    file is the same on both file servers (the same transaction wrote it
    last, whole), or on neither;
  - what the chain client was told holds: a file holds the last committed
    write to it, or a later one whose client was killed before it heard;
    never an aborted one;
  - the counter: every request got exactly one answer, none ran twice,
    every acknowledged one ran exactly once (history.py);
  - no transaction is in doubt and nothing is left behind (`crumbs` on
    every node: TM records and owed log entries, file server handles,
    transactions, locks, in-doubt transactions and log windows, windows,
    CM requests and marks);
  - every service runs, and on node 2 (never restarted) init restarted
    each exactly as often as the test killed it: none died on its own.

QS_RANDOM_KILLS (100; make stress 300) and QS_RANDOM_SEED change the run
(the seed is printed: a failure can be run again with the same kill
sequence, though not the same timing)."""

import os
import random
from collections import Counter
import re
import shutil
import time

import pytest

from history import check
from qsharness import BOOT_TIMEOUT, ISO, PROG_TIMEOUT, ROOT, Node, qsnet
from qsharness import boot_cluster
from test_counter import reset, start_counterd
from test_dtx import crumbs, no_breadcrumbs
from test_guest import reap
from test_jepsen import SERVER, Slot, counter_state
from test_services import said, services

KILLS = int(os.environ.get("QS_RANDOM_KILLS", 100))
SEED = int(os.environ.get("QS_RANDOM_SEED", 1986))
# the share of each kind of kill; the chain client takes the rest
NODE_KILLS, SERVER_KILLS, COUNT_KILLS = 0.12, 0.33, 0.08
MAX_DELAY_S = 1.5  # the random point: up to this long after the last act
SPACING_S = 8.0    # between two kills of one service
DIR = "/rk"
OPS = 2
SLOTS = 8
CHAIN = "chain -also fs@2 -n %d -r 100000 -slots %d %s" % (OPS, SLOTS, DIR)
TX = r"\d+\.\d+\.\d+"
COUNT_NODES = (0, 1)
RUN_N, RATE = 200, 10  # a count run: RUN_N increments, RATE a second
SERVICES = ((1, "fs"), (2, "fs"), (2, "wm"), (1, "disk"), (2, "disk"),
            (0, "echod"), (1, "echod"), (2, "echod"))
WATCHED = ("disk", "fs", "echod", "wm", "shell")


@pytest.fixture(scope="module")
def campaign_cluster():
    """Three nodes on fresh disks (a file system an earlier run filled up
    would turn every round into "no space left")."""
    state = os.path.join(ROOT, "build", "test-nodes-campaign")
    qsnet.Cluster(state, iso=ISO).down()  # an interrupted run's nodes
    shutil.rmtree(state, ignore_errors=True)
    cl = boot_cluster(state, 3)
    try:
        yield cl
    finally:
        cl.down()


class Workload:
    """The chain client on node 0, and what it printed over all of node 0's
    boots (its console log starts afresh at each)."""

    def __init__(self, n0):
        self.n0, self.pid, self.boots = n0, None, []

    def ensure_running(self):
        if self.pid is None:
            self.pid = self.n0.run(CHAIN)

    def kill_client(self):
        out = self.n0.exec("kill %d" % self.pid)
        assert re.search(r"killed %d|no such process" % self.pid, out), out
        self.pid = None

    def node0_going(self):
        self.boots.append(self.n0.log())
        self.pid = None

    def outcomes(self):
        """{tx: "committed" | "aborted" | "failed: STEP: ERROR"} as the
        client printed them."""
        told = {}
        for text in self.boots + [self.n0.log()]:
            for tx, what in re.findall(r"chain: tx (%s) (committed|aborted|"
                                       r"failed: [^\n]*)" % TX, text):
                told[tx] = what
        return told


def slot_writer(node, slot):
    """Which transaction wrote DIR/sSLOT on node's file server (None: no
    such file); the file must hold exactly its OPS lines."""
    out = node.exec("cat %s/s%d" % (DIR, slot))
    lines = re.findall(r"^tx (%s) op (\d+)$" % TX, out, re.M)
    if not lines:
        assert out.strip().endswith(": no such entry"), out
        return None
    tx = lines[0][0]
    assert lines == [(tx, str(k)) for k in range(1, OPS + 1)], out
    return tx


def aborts(node):
    """Transactions node's file server rolled back since it started (0
    while it is starting again after a kill: a statistic, not a check)."""
    m = re.search(r" aborts (\d+)", node.exec("df"))
    return int(m.group(1)) if m else 0


def order(tx):
    """Node 0's transactions in the order they began: incarnation, then
    counter."""
    _, inc, count = map(int, tx.split("."))
    return inc, count


class Counting:
    """The count clients: a Slot (test_jepsen) per node, each run RUN_N
    increments; a run that ends is followed by another."""

    def __init__(self, ns):
        self.slots = {n: Slot(ns[n], 0, RATE) for n in COUNT_NODES}

    def launch(self, slot):
        slot.quota = slot.recorded() + RUN_N
        slot.launch()

    @staticmethod
    def harvest(s):
        """The run that ended: its history, and its exit (0: every request
        answered), reaped at once (a restart of its node forgets it)."""
        s.harvest()
        for pid in s.reap:
            verdict = reap(s.node, pid)
            assert verdict.endswith("exited with status 0"), verdict
        s.reap = []

    def tend(self):
        """Harvests the runs that ended and starts the next."""
        for s in self.slots.values():
            if s.running() and s.ended():
                self.harvest(s)
            if not s.running():
                self.launch(s)

    def kill_one(self, rng):
        s = self.slots[rng.choice(COUNT_NODES)]
        if not s.running():
            return False
        out = s.node.exec("kill %d" % s.pid)
        assert re.search(r"killed %d|no such process" % s.pid, out), out
        s.node.wait_gone(s.pid)
        s.harvest(killed=True)
        return True

    def node_going(self, node):
        s = self.slots.get(node)
        if s and s.running():
            s.harvest(killed=True)

    def finish(self):
        """Lets the runs going end (RUN_N / RATE s at most): every request
        answered."""
        deadline = time.monotonic() + RUN_N / RATE * 3 + PROG_TIMEOUT
        while any(s.running() for s in self.slots.values()):
            assert time.monotonic() < deadline, "count clients still running"
            for s in self.slots.values():
                if s.running() and s.ended():
                    self.harvest(s)
            time.sleep(0.5)  # polling the consoles, not a synchronisation
        return [c for s in self.slots.values() for c in s.runs]


class Servers:
    """Kills of watched services, spaced (SPACING_S) per service."""

    def __init__(self, ns):
        self.ns = ns
        self.last = {}            # (node, name) -> when last killed
        self.kills = Counter()    # (node, name) -> kills
        self.t0 = time.monotonic()

    def kill_one(self, rng):
        now = time.monotonic()
        ready = [s for s in SERVICES if now - self.last.get(s, -SPACING_S)
                 >= SPACING_S]
        if not ready:
            return None
        node, name = rng.choice(ready)
        out = said(self.ns[node], "svc kill %s" % name)
        if "svc: killed %s\n" % name not in out:
            # still starting after an earlier kill: not a kill
            assert "is not running now" in out, out
            return None
        self.last[(node, name)] = now
        self.kills[(node, name)] += 1
        return node, name

    def node_restarted(self, node):
        for s in list(self.last):
            if s[0] == node:
                del self.last[s]

    def all_back(self):
        """Every watched service runs again on every node; returns the
        services table of each."""
        def back():
            tables = [services(n) for n in self.ns]
            down = [(n.id, k, v[0]) for n, t in zip(self.ns, tables)
                    for k, v in t.items() if k in WATCHED and
                    v[0] != "running"]
            return not down, (down, tables)
        return self.ns[0].poll("every service running again", back,
                               PROG_TIMEOUT)[1]


def test_random_kills(campaign_cluster):
    ns = [Node(campaign_cluster, i) for i in range(3)]
    rng = random.Random(SEED)
    print("random kills: %d, seed %d" % (KILLS, SEED))
    start_counterd(ns[SERVER])
    reset(ns[SERVER])
    work, counting, servers = Workload(ns[0]), Counting(ns), Servers(ns)
    kinds = Counter()
    rolled_back = {1: 0, 2: 0}  # by the file servers of earlier boots
    while sum(kinds.values()) < KILLS:
        work.ensure_running()
        counting.tend()
        time.sleep(rng.uniform(0, MAX_DELAY_S))  # the random point
        roll = rng.random()
        if roll < NODE_KILLS:
            node = rng.choice(COUNT_NODES)  # 0 or 1: never the counter's
            kinds["node %d" % node] += 1
            if node == 0:
                work.node0_going()
            else:
                rolled_back[node] += aborts(ns[node])
            counting.node_going(node)
            campaign_cluster.kill_node(node)
            campaign_cluster.restart_node(node, BOOT_TIMEOUT)
            servers.node_restarted(node)
        elif roll < NODE_KILLS + SERVER_KILLS and servers.kill_one(rng):
            kinds["server"] += 1
        elif roll < NODE_KILLS + SERVER_KILLS + COUNT_KILLS and \
                counting.kill_one(rng):
            kinds["count client"] += 1
        else:
            kinds["chain client"] += 1
            work.kill_client()
    print("kills: %s" % ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    print("servers killed: %s" % ", ".join(
        "%s@%d %d" % (name, node, k)
        for (node, name), k in sorted(servers.kills.items())))
    if work.pid is not None:
        work.kill_client()
    runs = counting.finish()

    # every service back; on node 2 (never restarted) each restarted
    # exactly as often as it was killed
    tables = servers.all_back()
    for name in ("fs", "wm", "disk", "echod"):
        assert tables[2][name][2] == servers.kills[(2, name)], \
            (name, tables[2][name], servers.kills)

    # everything settles: nothing in doubt, no breadcrumb anywhere
    no_breadcrumbs(ns)
    assert all(crumbs(n)["tm.in-doubt"] == 0 for n in ns)

    # the counter: exactly once
    problems, summary = check(runs, counter_state(ns[SERVER]))
    print("count history: %s" % summary)
    assert not problems, "\n".join(problems[:40])
    assert summary["acked"] > 0, summary

    told = work.outcomes()
    committed = {tx for tx, w in told.items() if w == "committed"}
    undone = {tx for tx, w in told.items()
              if w == "aborted" or (w.startswith("failed") and
                                    not w.startswith("failed: commit"))}
    for slot in range(SLOTS):
        last = slot_writer(ns[1], slot)
        # the same outcome at both recoverable participants
        assert slot_writer(ns[2], slot) == last, slot
        if last:
            assert order(last)[1] % SLOTS == slot and last not in undone, \
                (slot, last, told.get(last))
        # nothing committed to that file after it (or at all, if none)
        later = [tx for tx in committed if order(tx)[1] % SLOTS == slot and
                 (not last or order(tx) > order(last))]
        assert not later, (slot, last, sorted(later, key=order))
    print("the chain client heard: %s" % ", ".join(
        "%s %d" % kv for kv in Counter(told.values()).most_common()))
    rolled_back = [rolled_back[n.id] + aborts(n) for n in ns[1:]]
    print("transactions: %d committed, %d aborted or failed as the client "
          "heard; rolled back during the run: node 1 %d, node 2 %d"
          % (len(committed), len(undone), rolled_back[0], rolled_back[1]))
    # the run did what it is for: work committed, and kills cut work off
    assert committed and any(rolled_back)
    assert kinds["server"] >= KILLS // 5, kinds
