"""Crash points of the node log during a commit across three nodes
(servers/log's LOG_OP_CRASH hook, the shell's `log crash`), in the style of
CrashMonkey: the crash states are enumerated, not sampled.

The commit: `fsclient commit /cp TEXT fs fs@1 fs@2`, one transaction that
writes /cp on node 0's file server (the coordinator's node) and on nodes 1
and 2's (its subordinates), so the file servers' records and the TMs'
share each node's log. First a commit without a crash counts the flushes
each node's log makes for it: node 0 one (the commit point, which also
covers its file server's PREPARE), nodes 1 and 2 two each (their
"prepared" before they vote, and their file servers' commits before they
acknowledge; in Vista mode one: the commit is in persistent memory). Then, for every node and each of its flushes, the node is
stopped just before the flush reaches the disk and, for its last flush,
also just after the sync (and, under QS_STRESS, half-way through each:
torn, unsynced), killed there, and restarted. Once the cluster has settled (no
record, no transaction in doubt, no breadcrumb anywhere), every file
server holds the same /cp, the one the protocol says: the new text when
the crash came after the commit point was durable (node 0's flush synced,
or any subordinate's second flush: the commit was decided already), else
the one before. So every participant reaches the same outcome, no
committed write is lost, and no uncommitted one is seen.

Both file server modes: LRVM (its records in the node log) and Vista (its
undo log in persistent memory, the TMs' records in the node log). The
torn points under QS_STRESS=1 (`make stress`).
"""

import os
import re

from qsharness import PROG_TIMEOUT, Node, cluster_fixture
from test_dtx import no_breadcrumbs, restart

STRESS = os.environ.get("QS_STRESS") == "1"
QUEUES = "fs fs@1 fs@2"

lrvm_cluster = cluster_fixture("test-nodes-crash-lrvm", n=3)
vista_cluster = cluster_fixture("test-nodes-crash-vista", n=3,
                                args={"fs_mode": "vista"})


def flushes(node):
    m = re.search(r"forces (\d+)", node.exec("log"))
    assert m, node.exec("log")
    return int(m.group(1))


def contents(nodes):
    return [n.exec("cat /cp").strip() for n in nodes]


def commit(n0, text):
    """Starts the commit; returns where its output begins."""
    start = n0.log_size()
    n0.run("fsclient commit /cp %s %s" % (text, QUEUES))
    return start


def client_said(n0, start):
    m = n0.wait_log(r"fsclient: commit \S+: (.*)\n", PROG_TIMEOUT, start=start)
    return m.group(1)


def points(per_node):
    """(node, flush, how) for every crash state of one commit."""
    out = []
    for node, count in enumerate(per_node):
        for k in range(1, count + 1):
            out.append((node, k, "before"))
            if STRESS:
                out.append((node, k, "torn"))
        out.append((node, count, "after"))
    return out


def committed_at(node, k, how):
    """Whether the commit was decided durably when node stopped at its
    k-th flush: node 0's only flush is the commit point; a subordinate's
    first one comes before its vote, its second (LRVM) after the
    decision."""
    if node == 0:
        return how == "after"
    return k == 2


def run_points(cluster, want_flushes):
    nodes = [Node(cluster, i) for i in range(3)]
    n0 = nodes[0]
    # the dry run: the flushes of each node's log for one commit
    assert client_said(n0, commit(n0, "v0")) == "success"
    no_breadcrumbs(nodes)
    before = [flushes(n) for n in nodes]
    assert client_said(n0, commit(n0, "v1")) == "success"
    no_breadcrumbs(nodes)
    per_node = [flushes(n) - b for n, b in zip(nodes, before)]
    assert per_node == want_flushes, per_node
    assert contents(nodes) == ["v1"] * 3
    prev, seen = "v1", []
    for i, (x, k, how) in enumerate(points(per_node)):
        text = "p%d" % i
        victim = nodes[x]
        vstart = victim.log_size()
        assert "armed" in victim.exec("log crash %d %s" % (k, how))
        start = commit(n0, text)
        victim.wait_log(r"log: crash point reached", PROG_TIMEOUT,
                        start=vstart)
        restart(cluster, x)
        said = None if x == 0 else client_said(n0, start)
        no_breadcrumbs(nodes)
        got = contents(nodes)
        want = text if committed_at(x, k, how) else prev
        seen.append((x, k, how, said, got[0]))
        assert got == [want] * 3, (x, k, how, said, got, seen)
        if said is not None:
            assert (said == "success") == (want == text), (x, k, how, said)
        prev = want
    print("crash points (node, flush, how, client, /cp):", seen)


def test_every_crash_point_lrvm(lrvm_cluster):
    run_points(lrvm_cluster, [1, 2, 2])


def test_every_crash_point_vista(vista_cluster):
    # a Vista file server commits in persistent memory: nothing of it is
    # in the node log, so a subordinate's TM has nothing more to force
    run_points(vista_cluster, [1, 1, 1])
