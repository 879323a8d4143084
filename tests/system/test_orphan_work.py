"""Orphan computations stop (issue 19; Argus's orphans): a server on node 1
loops for a client's transaction, calling node 1's echo server each turn;
the client, on node 0, is killed, so its transaction aborts; node 1's TM
hears of it and tells its kernel, which from then on refuses requests
stamped with that transaction (QS_EABORTED), and qs_tx_alive says so: the
loop stops. A handler blocked in a call under it (to a queue nobody
serves) is woken with QS_EABORTED. tests/guest/orphan.c is both sides."""

import re

import pytest

from qsharness import Node, cluster_fixture

orphan_work_cluster = cluster_fixture("test-nodes-orphan-work", n=2)

TIMEOUT = 120  # generous: a busy host's TCG


@pytest.fixture(scope="module")
def served(orphan_work_cluster):
    """`orphan serve` on node 1."""
    n1 = Node(orphan_work_cluster, 1)
    s1 = n1.log_size()
    n1.run("orphan serve")
    n1.wait_log(r"orphan: serving orphan\n", TIMEOUT, start=s1)


def test_a_loop_for_an_aborted_transaction_stops(orphan_work_cluster,
                                                 served):
    n0, n1 = Node(orphan_work_cluster, 0), Node(orphan_work_cluster, 1)
    s1 = n1.log_size()
    s0 = n0.log_size()
    client = n0.run("orphan call orphan@1")
    tx = n0.wait_log(r"orphan: sent under tx (\S+)\n", TIMEOUT,
                     start=s0).group(1)
    n1.wait_log(r"orphan: looping under tx %s\n" % re.escape(tx), TIMEOUT,
                start=s1)
    # still looping: nothing has stopped it yet
    assert "orphan: stopped" not in n1.log(s1)
    n0.kill(client)
    m = n1.wait_log(r"orphan: stopped after (\d+) calls: alive: (.*); "
                    r"call: (.*)\n", TIMEOUT, start=s1)
    assert int(m.group(1)) > 0, n1.log(s1)
    assert m.group(2) == "transaction aborted", n1.log(s1)
    assert m.group(3) == "transaction aborted", n1.log(s1)
    # and nothing of it is left on either node
    for node in (n0, n1):
        def clean(node=node):
            out = node.exec("crumbs")
            return re.search(r"tm records 0 ", out) is not None, out
        node.poll("no TM records", clean, TIMEOUT)


def test_a_call_blocked_for_an_aborted_transaction_returns(
        orphan_work_cluster, served):
    """The kernel wakes a thread waiting in a call under the transaction
    when the TM says it aborted: the handler hears QS_EABORTED at once,
    though the queue it called will never answer."""
    n0, n1 = Node(orphan_work_cluster, 0), Node(orphan_work_cluster, 1)
    s1 = n1.log_size()
    client = n0.run("orphan call orphan@1 block")
    tx = n1.wait_log(r"orphan: blocking under tx (\S+)\n", TIMEOUT,
                     start=s1).group(1)
    assert "orphan: blocked call ended" not in n1.log(s1)
    n0.kill(client)
    m = n1.wait_log(r"orphan: blocked call ended: (.*)\n", TIMEOUT, start=s1)
    assert m.group(1) == "transaction aborted", (tx, n1.log(s1))
    # the handler answered; the call's request left the queue
    sink = [l for l in n1.exec("sq").splitlines()
            if l.split()[1:2] == ["orphan.sink"]]
    assert sink and sink[0].split()[6] == "0", sink  # PENDING
