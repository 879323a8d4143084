"""100 random kills at random points of a 3-node `chain` workload.

`chain -also fs@2 -slots K` on node 0 runs round after round, each a
transaction that opens a log window on node 2's window manager (through
node 1's file server) and writes one of K files on node 1's file server and
the same file on node 2's: two recoverable nodes that must agree. The
file's lines name the transaction that wrote it last. Meanwhile the test kills,
after a random delay, either the client (most of the time) or a whole node
(restarted at once), and starts the client again when it is gone. The
random points fall anywhere: before, during and after either phase of the
commit, at either file server, during recovery after a restart.

Then, with every node up again:
  - every transaction's outcome is the same at all its participants: each
    file is the same on both file servers (the same transaction wrote it
    last, whole), or on neither;
  - what the client was told holds: a file holds the last committed write
    to it, or a later one whose client was killed before it heard; never
    an aborted one;
  - no transaction is in doubt and no breadcrumb is left (`crumbs` on every
    node: TM records, file server handles, transactions, locks, in-doubt
    transactions and log windows, windows, CM requests and marks).

QS_RANDOM_KILLS and QS_RANDOM_SEED change the run (the seed is printed:
a failure can be run again with the same kill sequence, though not the
same timing)."""

import os
import random
from collections import Counter
import re
import shutil
import time

import pytest

from qsharness import BOOT_TIMEOUT, ISO, ROOT, Node, boot_cluster, qsnet
from test_dtx import crumbs, no_breadcrumbs

KILLS = int(os.environ.get("QS_RANDOM_KILLS", 100))
SEED = int(os.environ.get("QS_RANDOM_SEED", 1986))
NODE_KILLS = 0.25  # the share of kills that take a whole node down
MAX_DELAY_S = 1.5  # the random point: up to this long after the last act
DIR = "/rk"
OPS = 2
SLOTS = 8
CHAIN = "chain -also fs@2 -n %d -r 100000 -slots %d %s" % (OPS, SLOTS, DIR)
TX = r"\d+\.\d+\.\d+"


@pytest.fixture(scope="module")
def random_cluster():
    """Three nodes on fresh disks (a file system an earlier run filled up
    would turn every round into "no space left")."""
    state = os.path.join(ROOT, "build", "test-nodes-dtx-random")
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
    """Transactions node's file server rolled back since it started."""
    return int(re.search(r" aborts (\d+)", node.exec("df")).group(1))


def order(tx):
    """Node 0's transactions in the order they began: incarnation, then
    counter."""
    _, inc, count = map(int, tx.split("."))
    return inc, count


def test_random_kills(random_cluster):
    ns = [Node(random_cluster, i) for i in range(3)]
    rng = random.Random(SEED)
    print("random kills: %d, seed %d" % (KILLS, SEED))
    work = Workload(ns[0])
    kinds = {"client": 0, 0: 0, 1: 0, 2: 0}
    rolled_back = {1: 0, 2: 0}  # by the file servers of earlier boots
    for _ in range(KILLS):
        work.ensure_running()
        time.sleep(rng.uniform(0, MAX_DELAY_S))  # the random point
        if rng.random() < NODE_KILLS:
            node = rng.randrange(3)
            kinds[node] += 1
            if node == 0:
                work.node0_going()
            else:
                rolled_back[node] += aborts(ns[node])
            random_cluster.kill_node(node)
            random_cluster.restart_node(node, BOOT_TIMEOUT)
        else:
            kinds["client"] += 1
            work.kill_client()
    print("kills: client %d, node 0 %d, node 1 %d, node 2 %d"
          % (kinds["client"], kinds[0], kinds[1], kinds[2]))
    if work.pid is not None:  # a client that outlived a file server's node
        work.kill_client()

    # everything settles: nothing in doubt, no breadcrumb anywhere
    no_breadcrumbs(ns)
    assert all(crumbs(n)["tm.in-doubt"] == 0 for n in ns)

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
    print("the client heard: %s" % ", ".join(
        "%s %d" % kv for kv in Counter(told.values()).most_common()))
    rolled_back = [rolled_back[n.id] + aborts(n) for n in ns[1:]]
    print("transactions: %d committed, %d aborted or failed as the client "
          "heard; rolled back during the run: node 1 %d, node 2 %d"
          % (len(committed), len(undone), rolled_back[0], rolled_back[1]))
    # the run did what it is for: work committed, and kills cut work off
    assert committed and any(rolled_back)
