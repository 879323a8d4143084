"""Remote service queues on three nodes (kernel proxies, the CM's global
names and exactly-once requests: servers/cm/names.c, rpc.c): a client's
unchanged code reaches a queue on another node by name, from every node;
increments from two nodes to one counter are each executed once; under 20%
loss, 10% duplication and jitter nothing is lost or repeated; a 5 s link
cut loses nothing; a killed server node gives clients errors, not hangs; a
restarted node is a new incarnation whose new requests are not taken for its
old ones and whose old packets are refused; garbage
on the wire is counted and the CMs go on serving.

QS_STRESS_INCREMENTS (make stress) sets how many increments the lossy test
sends (2,000 by default)."""

import os
import re
import time

import pytest

from qsharness import BOOT_TIMEOUT, PROG_TIMEOUT, Node, cluster_fixture
from test_counter import count, prog, reset, start_counterd, state, status
from test_net import wait_member

remote_cluster = cluster_fixture("test-nodes-remote", n=3)
LOSSY = int(os.environ.get("QS_STRESS_INCREMENTS", 2000))
CUT_S = 5  # the scenario: how long the cable stays out


def formed(cluster, count=3):
    """The cluster's first COUNT nodes, once each sees every other up."""
    ns = [Node(cluster, i) for i in range(count)]
    for n in ns:
        for peer in range(count):
            if peer != n.id:
                wait_member(n, peer, "up")
    return ns


@pytest.fixture(scope="module")
def nodes(remote_cluster):
    return formed(remote_cluster)


@pytest.fixture(scope="module")
def counterd(nodes):
    return start_counterd(nodes[1])


NET_LINES = (
    re.compile(r"net: requests sent (?P<req_tx>\d+) received (?P<req_rx>\d+), "
               r"replies sent (?P<rep_tx>\d+) received (?P<rep_rx>\d+)\n"),
    re.compile(r"net: retransmits (?P<retransmits>\d+) duplicates "
               r"(?P<duplicates>\d+) late (?P<late>\d+) stale (?P<stale>\d+) "
               r"bad (?P<bad>\d+) busy (?P<busy>\d+) unreachable "
               r"(?P<unreachable>\d+) udp-bad (?P<udp_bad>\d+)\n"),
    re.compile(r"net: inflight (?P<inflight>\d+) cached (?P<cached>\d+) "
               r"proxies (?P<proxies>\d+) edges (?P<edges>\d+) "
               r"marks (?P<marks>\d+) redirected (?P<redirected>\d+)\n"),
    re.compile(r"net: refused header (?P<rej_header>\d+) length "
               r"(?P<rej_length>\d+) seq (?P<rej_seq>\d+) floor "
               r"(?P<rej_floor>\d+) incarnation (?P<rej_inc>\d+) queue "
               r"(?P<rej_queue>\d+) heartbeat (?P<rej_heartbeat>\d+) seal "
               r"(?P<rej_seal>\d+) replay (?P<rej_replay>\d+)\n"))


def net(node):
    """The CM's counters for remote requests (`net`) as a dict."""
    out = node.exec("net")
    stats = {}
    for regex in NET_LINES:
        m = regex.search(out)
        assert m, out
        stats.update((k, int(v)) for k, v in m.groupdict().items())
    return stats


def sq_row(node, name):
    for line in node.exec("sq").splitlines()[1:]:
        f = line.split()
        if f[1] == name:
            return dict(qid=int(f[0]), node=int(f[2]), owner=int(f[3]))
    return None


def echo(node, args):
    m, verdict, out = prog(node, "echo " + args, r"echo: [^\n]*\n")
    return m.group(0).strip(), status(verdict)


def test_remote_echo(nodes):
    n0, n1, _ = nodes
    before = net(n1)["req_rx"]
    assert echo(n0, "-q echo@1 hello remote") == ("echo: hello remote", 0)
    # the request, then, when echo exits, its transaction's end: node 0's
    # TM commits it in one phase, one message to node 1's TM
    n1.poll("the end of echo's transaction at node 1",
            lambda: (net(n1)["req_rx"] == before + 2, net(n1)["req_rx"]))
    assert "\n0." not in n1.exec("tx"), n1.exec("tx")
    proxy = sq_row(n0, "echo@1")
    assert proxy and proxy["node"] == 1, n0.exec("sq")
    # the same name again: the proxy answers, no new lookup
    assert echo(n0, "-q echo@1 -u again") == ("echo: AGAIN", 0)
    assert sq_row(n0, "echo@1")["qid"] == proxy["qid"]
    # NAME@here is the local queue
    assert echo(n0, "-q echo@0 local") == ("echo: local", 0)
    assert sq_row(n0, "echo@0") is None


def test_lookup_by_name_from_every_node(nodes, counterd):
    n1 = nodes[1]
    reset(n1)
    for n in nodes:
        sent, acked, errors, value, st, errs = count(n, "-q counter 10 4")
        assert (sent, acked, errors, st) == (10, 10, 0, 0), errs
        if n.id != 1:
            assert sq_row(n, "counter")["node"] == 1
    assert state(n1) == (30, 30, 0)
    sent, acked, errors, _, _, errs = count(nodes[2], "-q counter@1 10 4")
    assert (acked, errors) == (10, 0), errs


def test_names_that_are_nowhere(nodes):
    n0 = nodes[0]
    text, st = echo(n0, "-q nosuch hello")
    assert text.startswith("echo: no queue nosuch: ") and st == 1, text
    text_unreach, st = echo(n0, "-q echo@9 hello")
    assert text_unreach.startswith("echo: no queue echo@9: ") and st == 1
    assert text_unreach.split(": ")[-1] != text.split(": ")[-1]
    text, st = echo(n0, "-q echo@x hello")
    assert text.startswith("echo: no queue echo@x: ") and st == 1
    assert sq_row(n0, "nosuch") is None and sq_row(n0, "echo@9") is None


def test_one_server_clients_on_two_other_nodes(nodes, counterd):
    n0, n1, n2 = nodes
    reset(n1)
    starts = [n.log_size() for n in (n0, n2)]
    pids = [n.run("count 3000 64") for n in (n0, n2)]
    for n, start, pid in zip((n0, n2), starts, pids):
        m = n.wait_log(r"count: sent (\d+) acked (\d+) errors (\d+) value "
                       r"(\d+)\n", PROG_TIMEOUT, start=start)
        assert m.groups()[:3] == ("3000", "3000", "0"), n.log(start)
    assert state(n1) == (6000, 6000, 0)


def test_exactly_once_under_loss_duplication_and_jitter(
        nodes, counterd, remote_cluster):
    n0, n1, _ = nodes
    reset(n1)
    before0, before1 = net(n0), net(n1)
    remote_cluster.netem(0, loss=20, dup=10, delay=5, jitter=5)
    try:
        sent, acked, errors, value, st, errs = count(n0, "%d 128" % LOSSY)
    finally:
        remote_cluster.netem(0)
    assert (sent, acked, errors, value) == (LOSSY, LOSSY, 0, LOSSY), errs
    assert state(n1) == (LOSSY, LOSSY, 0)
    after0, after1 = net(n0), net(n1)
    # the protocol was exercised: requests resent, duplicates suppressed
    assert after0["retransmits"] > before0["retransmits"]
    assert after1["duplicates"] > before1["duplicates"]
    assert after0["unreachable"] == before0["unreachable"]


def test_link_down_for_5s_loses_nothing(nodes, counterd, remote_cluster):
    n0, n1, _ = nodes
    reset(n1)
    remote_cluster.set_link(0, False)
    try:
        start = n0.log_size()
        pid = n0.run("count 3000 64")
        n0.poll("requests waiting on the cut link",
                lambda: (net(n0)["inflight"] > 0, None))
        # the client's transaction went to node 1: the TM knows
        assert re.search(r"^\S+\s+%d\s+0\s+active\s+-\s+1\b" % pid,
                         n0.exec("tx"), re.M), n0.exec("tx")
        time.sleep(CUT_S)  # the scenario itself, not a wait for an event
        assert net(n0)["inflight"] > 0
    finally:
        remote_cluster.set_link(0, True)
    m = n0.wait_log(r"count: sent (\d+) acked (\d+) errors (\d+) value "
                    r"(\d+)\n", PROG_TIMEOUT, start=start)
    assert m.groups() == ("3000", "3000", "0", "3000"), n0.log(start)
    assert state(n1) == (3000, 3000, 0)
    # count's transaction ended with it: node 0's TM told node 1's, which
    # let its record of it go
    n1.poll("node 1's record of count's transaction to go",
            lambda: ("\n0." not in n1.exec("tx"), n1.exec("tx")))


def cluster_key(cluster):
    """The cluster's key, 64 hex digits (qsnet's STATE/key)."""
    with open(cluster.key_path()) as f:
        return f.read().strip()


def key(cluster):
    """-kKEY for netjunk and wirefuzz: seal as a member would."""
    return "-k" + cluster_key(cluster)


def test_garbage_leaves_the_cm_serving(nodes, counterd, remote_cluster):
    n0, n1, n2 = nodes
    before = net(n1)
    _, verdict, _ = prog(n0, "-r raw-net netjunk %s junk 1 200"
                         % key(remote_cluster), r"netjunk: sent 200 packets\n")
    assert status(verdict) == 0
    after = net(n1)
    assert after["bad"] > before["bad"]
    assert after["udp_bad"] > before["udp_bad"]
    # sealed with the key, they reach the parsing behind the seal: by kind,
    # magic, version, lying lengths, forged senders, unknown types; seqs
    # beyond the window, and replies to requests never sent
    assert after["rej_header"] > before["rej_header"]
    assert after["rej_seq"] > before["rej_seq"]
    # without it, all are refused unread
    before = after
    _, verdict, _ = prog(n0, "-r raw-net netjunk junk 1 200",
                         r"netjunk: sent 200 packets\n")
    after = net(n1)
    assert after["rej_seal"] > before["rej_seal"]
    assert after["rej_header"] == before["rej_header"]
    assert after["rej_seq"] == before["rej_seq"]
    reset(n1)
    for n in (n0, n2):
        sent, acked, errors, _, _, errs = count(n, "500 32")
        assert (acked, errors) == (500, 0), errs
    assert state(n1) == (1000, 1000, 0)


def test_server_node_killed_gives_errors_not_hangs(
        nodes, counterd, remote_cluster):
    n0, n1, n2 = nodes
    reset(n1)
    start, replies = n0.log_size(), net(n0)["rep_rx"]
    n0.run("count 50000 64")
    n0.poll("increments flowing",
            lambda: (net(n0)["rep_rx"] > replies + 100, None))
    remote_cluster.kill_node(1)
    # CM_DOWN_MS (8 s) after the last heartbeat every waiting request fails
    m = n0.wait_log(r"count: sent (\d+) acked (\d+) errors (\d+) value "
                    r"(\S+)\n", PROG_TIMEOUT, start=start)
    sent, acked, errors = map(int, m.groups()[:3])
    assert errors > 0 and acked > 0 and sent == acked + errors, m.group(0)
    assert "node unreachable" in n0.log(start), n0.log(start)
    text, st = echo(n2, "-q echo@1 anyone")
    assert text.startswith("echo: ") and st == 1, text
    assert net(n0)["inflight"] == 0


def test_restarted_node_is_a_new_incarnation_and_old_packets_are_refused(
        nodes, remote_cluster):
    n0, n1, _ = nodes
    inc1 = int(open(remote_cluster.path(1, "incarnation")).read())
    if remote_cluster.is_running(1):
        remote_cluster.kill_node(1)
    remote_cluster.restart_node(1, BOOT_TIMEOUT)
    wait_member(n0, 1, "up", inc1 + 1)
    start_counterd(n1)
    # the old proxy went with the old incarnation; the name is found again
    sent, acked, errors, _, _, errs = count(n0, "-q counter 100 8")
    assert (acked, errors) == (100, 0), errs
    # node 0 restarts too: its new requests count from seq 1 again, and
    # must run, not pass for duplicates of its earlier life's
    remote_cluster.kill_node(0)
    remote_cluster.restart_node(0, BOOT_TIMEOUT)
    inc0 = int(open(remote_cluster.path(0, "incarnation")).read())
    wait_member(n1, 0, "up", inc0)
    wait_member(n0, 1, "up")
    sent, acked, errors, _, _, errs = count(n0, "-q counter 100 8")
    assert (acked, errors) == (100, 0), errs
    assert state(n1) == (200, 200, 0)
    qid = sq_row(n1, "counter")["qid"]
    value = state(n1)[0]
    # a well-formed request from node 0's present life runs...
    prog(n0, "-r raw-net netjunk %s replay 1 %d %d 250 777001"
         % (key(remote_cluster), qid, inc0), r"netjunk: sent\n")
    n1.poll("the replayed increment", lambda: (state(n1)[0] == value + 1,
                                               None))
    # ...the same from node 0's earlier life is stale: refused, not run
    stale = net(n1)["stale"]
    prog(n0, "-r raw-net netjunk %s replay 1 %d %d 251 777002"
         % (key(remote_cluster), qid, inc0 - 1), r"netjunk: sent\n")
    n1.poll("the stale packet counted",
            lambda: (net(n1)["stale"] == stale + 1, None))
    assert state(n1) == (value + 1, value + 1, 0)
