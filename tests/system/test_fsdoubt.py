"""The file server serves while transactions are in doubt (servers/fs/fs.c,
in-doubt transactions): node 1's file server restarts with a `chain`
transaction prepared and its coordinator, node 0, down. It comes up anyway
(the shell with it), counts the transaction in doubt, serves other files,
answers busy for what the transaction changed, and resolves it in the
background once node 0 is back: committed (node 0 had logged the commit)
or aborted (node 0 had presumed abort)."""

import re

import pytest

from qsharness import BOOT_TIMEOUT, PROG_TIMEOUT, Node, cluster_fixture
from test_dtx import DIR, chain, files, no_breadcrumbs, restart, \
    stalled_at_commit_point, tx_of

fsdoubt_cluster = cluster_fixture("test-nodes-fsdoubt", n=3)


@pytest.fixture(scope="module")
def nodes(fsdoubt_cluster):
    ns = [Node(fsdoubt_cluster, i) for i in range(3)]
    chain(ns[0], "-r 1")  # makes DIR, in a transaction of its own
    no_breadcrumbs(ns)
    return ns


def in_doubt(node):
    out = node.exec("df")
    m = re.search(r"in-doubt (\d+)", out)
    assert m, out
    return int(m.group(1))


def serves_while_in_doubt(cluster, nodes, tx, name):
    """Node 1 restarted alone (node 0 down): its fs serves around tx."""
    n0, n1, _ = nodes
    cluster.restart_node(1, BOOT_TIMEOUT)  # its shell: the fs serves
    text = n1.log()  # since this boot
    assert "cannot learn how" not in text, text
    assert re.search(r"fs: 1 transaction\(s\) in doubt: serving", text), text
    assert in_doubt(n1) == 1
    # what tx changed is locked for it: its directory answers busy
    assert "busy" in n1.exec("ls %s" % DIR).lower()
    out = n1.exec("write %s/%s other" % (DIR, name))
    assert "wrote" not in out and "busy" in out.lower(), out
    # the rest is served: a new directory and file, written and read
    assert "wrote" in n1.exec("write /%s hello" % name)
    assert n1.exec("cat /%s" % name).strip() == "hello"
    out = n1.exec("mkdir /d%s" % name)
    assert "error" not in out.lower() and "busy" not in out.lower(), out
    assert "wrote" in n1.exec("write /d%s/x in a new directory" % name)
    assert n1.exec("cat /d%s/x" % name).strip() == "in a new directory"
    assert in_doubt(n1) == 1
    # node 0 back: node 1's TM learns the outcome, the fs resolves it
    start1 = n1.log_size()
    cluster.restart_node(0, BOOT_TIMEOUT)
    n1.poll("in-doubt 0", lambda: (in_doubt(n1) == 0, n1.log(start1)),
            PROG_TIMEOUT)
    no_breadcrumbs(nodes)
    assert n1.exec("cat /%s" % name).strip() == "hello"
    assert n1.exec("cat /d%s/x" % name).strip() == "in a new directory"
    assert "wrote" in n1.exec("write %s/%s now" % (DIR, name))
    return n1.log(start1)


def test_in_doubt_commit_resolved_while_serving(nodes, fsdoubt_cluster):
    n1 = nodes[1]
    tx = stalled_at_commit_point(fsdoubt_cluster, nodes)
    fsdoubt_cluster.kill_node(0)
    fsdoubt_cluster.kill_node(1)
    text = serves_while_in_doubt(fsdoubt_cluster, nodes, tx, "c1")
    assert "fs: in-doubt transaction %s committed" % tx in text, text
    assert tx in files(n1)
    assert n1.exec("cat %s/%s" % (DIR, tx)).count("tx %s op" % tx) == 3


def test_in_doubt_abort_resolved_while_serving(nodes, fsdoubt_cluster):
    n0, n1, _ = nodes
    # node 1 forces "prepared" and stalls before it votes: node 0 aborts
    # (and, presuming abort, logs nothing)
    restart(fsdoubt_cluster, 1, tm_stall="prepared")
    start1 = n1.log_size()
    _, m, text = chain(n0, "-r 1")
    assert m.groups() == ("0", "1", "0"), text
    tx = tx_of(text)
    n1.wait_log(r"tm: stalled prepared: %s" % re.escape(tx), start=start1)
    fsdoubt_cluster.kill_node(0)
    fsdoubt_cluster.kill_node(1)
    text = serves_while_in_doubt(fsdoubt_cluster, nodes, tx, "a1")
    assert "fs: in-doubt transaction %s aborted" % tx in text, text
    assert tx not in files(n1)
