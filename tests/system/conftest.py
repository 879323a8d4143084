"""Fixtures for the system tests; the helpers live in qsharness.py."""

import pytest

from qsharness import BOOT_TIMEOUT, Node, cluster_fixture, qsnet

# One node, booted once per test module and stopped at its end.
cluster = cluster_fixture("test-nodes")


@pytest.fixture(scope="module")
def node(cluster):
    """Node 0, once devtest (test.conf starts it at boot) has ended: tests
    compare process lists."""
    n = Node(cluster, 0)
    n.poll("devtest to end", lambda: (
        all(r["name"] != "devtest" for r in n.ps()), n.ps()))
    return n


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, for hand_back_clusters."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def restore(cl, pids):
    """Every node of CL that was running (pid in PIDS) runs again, started
    afresh with its stored options if it died or was restarted (perhaps with
    one-start arguments such as a stall point), its cable in, uncut and
    plain."""
    for node, pid in pids.items():
        if cl.is_running(node) and cl.pid(node) == pid:
            continue
        if cl.is_running(node):
            cl.kill_node(node)
        cl.restart_node(node, BOOT_TIMEOUT)
    for node in pids:
        cl.set_link(node, True)
        cl.cut(node, "none")
        cl.netem(node)
    cl.wait_formed(sorted(pids), BOOT_TIMEOUT)


@pytest.fixture(autouse=True)
def hand_back_clusters(request):
    """A test that fails hands the next test of its module the cluster it
    was given: the same nodes running, with their usual arguments, on a
    plain LAN, every node seeing every other up. (A test that passes leaves
    it so itself.) Without this, one failure fails the tests after it."""
    clusters = [request.getfixturevalue(name)
                for name in request.fixturenames
                if name not in ("request", "hand_back_clusters")]
    clusters = [c for c in clusters if isinstance(c, qsnet.Cluster)]
    before = [(cl, {n: cl.pid(n) for n in cl.nodes() if cl.is_running(n)})
              for cl in clusters]
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    for cl, pids in before:
        restore(cl, pids)
