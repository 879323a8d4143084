"""Authority across nodes (docs/security.md, "Across nodes"): who may ask a
TM what. A transaction held open by `chain -hold` on node 0 (its file on
node 1's file server, so node 1's TM is a subordinate with a recoverable
participant) is attacked by ordinary programs:

  - from node 1, by a program with the owner's very pid: commit, abort,
    delegate, join, begin, list, outcome on tm@0;
  - from node 0, the superior's node: the TMs' own end (commit, abort),
    prepare and takeover on tm@1;
  - on node 1: outcome and list, which only system servers learn, and
    forged notices to the file server's recovery queue.

Each is refused with QS_EPERM and counted by the TM; the transaction lives
on, and aborts, rolled back, when its client is killed."""

import re

import pytest

from qsharness import PROG_TIMEOUT, Node, cluster_fixture, qsnet
from test_guest import reap, wait_summary, failures

auth_cluster = cluster_fixture("test-nodes-rauth", n=2)
DIR = "/ra"


@pytest.fixture(scope="module")
def nodes(auth_cluster):
    return [Node(auth_cluster, i) for i in range(2)]


def bad_requests(node):
    out = node.exec("tx stats")
    return int(re.search(r"bad-requests (\d+)", out).group(1))


def spin_until(node, pid):
    """Starts (and kills) spins on node until the next pid there is pid.
    Pids on a node count up by one per process, and nothing else starts
    processes on an idle test node."""
    while True:
        p = node.run("spin")
        node.kill(p)
        reap(node, p)
        assert p < pid, "node %d is past pid %d already" % (node.id, pid)
        if p == pid - 1:
            return


def next_pid(node):
    p = node.run("spin")
    node.kill(p)
    reap(node, p)
    return p + 1


def run_checks(node, args, checks):
    start = node.log_size()
    pid = node.run("tmauth %s" % args)
    passed, failed, log = wait_summary(node, "tmauth", start)
    assert (passed, failed) == (checks, 0), failures(log) or log
    reap(node, pid)
    return pid


def records(node, tx):
    return [r for r in qsnet.parse_tx(node.exec("tx")) if r["tx"] == tx]


def test_no_program_commits_ends_or_learns_another_nodes_transaction(nodes):
    n0, n1 = nodes
    bad0, bad1 = bad_requests(n0), bad_requests(n1)
    # the owner on node 0 and the attacker on node 1 get the same pid
    target = max(next_pid(n0), next_pid(n1)) + 1
    spin_until(n0, target)
    start = n0.log_size()
    owner = n0.run("chain -f fs@1 -w wm@0 -hold %s" % DIR)
    assert owner == target
    m = n0.wait_log(r"chain: holding tx (\S+)\n", PROG_TIMEOUT, start=start)
    tx = m.group(1)
    sub = records(n1, tx)
    assert sub and sub[0]["sup"] == 0, sub
    fs = [p["pid"] for p in sub[0]["parts"] if p["cls"] == "recoverable"]
    assert len(fs) == 1, sub

    spin_until(n1, target)
    assert run_checks(n1, "owner 0 %s" % tx, 7) == owner
    run_checks(n0, "tree 1 %s" % tx, 4)
    run_checks(n1, "local %s" % tx, 2)
    run_checks(n1, "notice %d" % fs[0], 2)

    # counted where they were refused (the notices in the fs, not the TM)
    assert bad_requests(n0) >= bad0 + 7
    assert bad_requests(n1) >= bad1 + 4 + 2
    # nothing happened to the transaction
    top = records(n0, tx)
    assert top and top[0]["owner"] == owner and top[0]["state"] == "active", top
    assert records(n1, tx)[0]["state"] == "active"
    n0.kill(owner)
    n1.poll("the subordinate's part gone",
            lambda: (not records(n1, tx), records(n1, tx)))
    assert tx not in n1.exec("ls %s" % DIR)  # rolled back
