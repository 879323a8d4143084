"""Service queues seen from the shell: the echo server and client, the `sq`
listing, and the in-guest sqtest suite (delivery, flow control, exactly-once
under concurrency and failures, transaction stamps, death notices)."""

import re

import pytest

from qsharness import Node, cluster_fixture
from test_guest import reap, run_suite

bare_cluster = cluster_fixture("test-nodes-bare", conf="bare.conf")


@pytest.fixture(scope="module")
def bare(bare_cluster):
    return Node(bare_cluster, 0)


def sq_rows(node):
    rows = {}
    for line in node.exec("sq").splitlines()[1:]:
        f = line.split()
        rows[f[1]] = dict(qid=int(f[0]), node=int(f[2]), owner=int(f[3]),
                          idle=int(f[4]), busy=int(f[5]), pending=int(f[6]),
                          depth=int(f[7]), completed=int(f[8]))
    return rows


def test_echo_from_the_shell(node):
    start = node.log_size()
    pid = node.run("echo hello   queues")
    node.wait_log(r"echo: hello queues\n", start=start)
    assert reap(node, pid) == "pid %d exited with status 0" % pid
    pid = node.run("echo -u shout")
    node.wait_log(r"echo: SHOUT\n", start=start)
    reap(node, pid)


def test_sq_lists_the_echo_queue(node):
    echod = [r["pid"] for r in node.ps() if r["name"] == "echod"]
    assert echod, node.ps()
    before = sq_rows(node)["echo"]
    assert before["owner"] == echod[0]
    assert before["idle"] == 2 and before["busy"] == 0, before
    assert before["pending"] == 0 and before["depth"] == 256, before
    pid = node.run("echo count me")
    reap(node, pid)
    assert sq_rows(node)["echo"]["completed"] == before["completed"] + 1
    assert re.match(r"\s*QID NAME\s+NODE OWNER IDLE BUSY PENDING DEPTH COMPLETED",
                    node.exec("sq"))


def test_sqtest_in_guest(bare):
    free0, pids0 = bare.mem_free(), bare.ps_pids()
    run_suite(bare, "sqtest", 55, rights="prio")
    bare.wait_pids(pids0)
    bare.wait_free(free0)  # every request, queue and helper is gone
    # only init's queue and those of `sqtest deaths`, which init started
    assert set(sq_rows(bare)) == {"init", "kernel.deaths", "sqtest.deaths"}
