"""The LAN and the CM's e1000 driver, on two nodes on one vde_switch:
both CMs find their NIC with the link up; broadcast frames from node 0 all
reach node 1; with node 1's cable out (`qsnet link 1 down`) its CM sees the
link go down and no frame reaches it, and with the cable back they flow
again; the driver refuses bad frames; a restarted node is on the LAN again;
netem with 100% loss lets nothing through, and without options nothing is lost.
ethtest (tests/guest/ethtest.c) talks to the CM's raw-frame test hook."""

import random
import re

import pytest

from qsharness import BOOT_TIMEOUT, Node, cluster_fixture, qsnet
from test_guest import reap

net_cluster = cluster_fixture("test-nodes-net", n=2)
TIMEOUT = 60  # TCG on a busy machine: generous, and only ever waited on
FRAMES = 20
STATS = re.compile(
    r"ethtest: link (up|down) mac ([0-9a-f:]{17}) irq (\d+) rx (\d+) "
    r"tx (\d+) rx_dropped (\d+) errors (\d+) link_changes (\d+) "
    r"interrupts (\d+)\n")


@pytest.fixture(scope="module")
def nodes(net_cluster):
    return Node(net_cluster, 0), Node(net_cluster, 1)


def ethtest(node, args, regex):
    """`run ethtest ARGS`, wait for its line matching REGEX (or an error
    line, which fails), reap it; returns the match."""
    start = node.log_size()
    pid = node.run("-r raw-net ethtest " + args)
    m = node.wait_log(r"ethtest: (?:error|usage|no queue)[^\n]*\n|" + regex,
                      TIMEOUT, start=start)
    assert not re.match(r"ethtest: (?:error|usage|no queue)", m.group(0)), \
        m.group(0)
    reap(node, pid)
    return m


def ethtest_bg(node, args):
    """Start ethtest; returns (pid, log offset) to wait for its output."""
    start = node.log_size()
    return node.run("-r raw-net ethtest " + args), start


def stats(node):
    m = ethtest(node, "stats", STATS.pattern)
    keys = ("rx", "tx", "rx_dropped", "errors", "link_changes", "interrupts")
    s = dict(zip(keys, map(int, m.groups()[3:])))
    s.update(link=m.group(1), mac=m.group(2), irq=int(m.group(3)))
    return s


def wait_link(node, state):
    def check():
        s = stats(node)
        return s["link"] == state, s
    return node.poll("node %d link %s" % (node.id, state), check, TIMEOUT)


def transfer(sender, receiver, tag):
    """FRAMES broadcast frames of TAG from sender, all received; returns
    how many other frames the receiver consumed meanwhile."""
    pid, start = ethtest_bg(receiver, "recv %d %d %d" % (FRAMES, tag, TIMEOUT))
    ethtest(sender, "send %d %d" % (FRAMES, tag), r"ethtest: sent %d frames\n"
            % FRAMES)
    m = receiver.wait_log(r"ethtest: (error: [^\n]*|received %d frames "
                          r"\((\d+) others\))\n" % FRAMES, TIMEOUT, start=start)
    assert not m.group(1).startswith("error"), m.group(1)
    reap(receiver, pid)
    return int(m.group(2))


def tag():
    return random.randrange(1, 1 << 30)


def test_nics_found_link_up(nodes):
    for n in nodes:
        s = wait_link(n, "up")
        assert s["mac"] == "52:54:00:12:34:%02x" % n.id, s
        assert s["irq"] == 11, s


def test_broadcast_frames_arrive(nodes):
    n0, n1 = nodes
    before = stats(n1)
    transfer(n0, n1, tag())
    after = stats(n1)
    assert after["rx"] - before["rx"] >= FRAMES, (before, after)
    assert after["rx_dropped"] == before["rx_dropped"], (before, after)


def test_link_down_then_up(nodes, net_cluster):
    n0, n1 = nodes
    changes = stats(n1)["link_changes"]
    net_cluster.set_link(1, False)
    wait_link(n1, "down")
    lost = tag()  # sent while the cable is out: must never arrive
    ethtest(n0, "send %d %d" % (FRAMES, lost), r"ethtest: sent %d frames\n"
            % FRAMES)
    net_cluster.set_link(1, True)
    s = wait_link(n1, "up")
    assert s["link_changes"] == changes + 2, s
    # frames arrive in order: had any of `lost` come, recv would have
    # consumed it before these, as an "other"
    assert transfer(n0, n1, tag()) == 0


def test_bad_frames_refused(nodes):
    n1 = nodes[1]
    errors = stats(n1)["errors"]
    ethtest(n1, "bad", r"ethtest: bad frames refused\n")
    assert stats(n1)["errors"] == errors + 2


def test_restarted_node_back_on_lan(nodes, net_cluster):
    n0, n1 = nodes
    net_cluster.kill_node(1)
    net_cluster.restart_node(1, BOOT_TIMEOUT)
    wait_link(n1, "up")
    transfer(n0, n1, tag())
    transfer(n1, n0, tag())


def test_netem_full_loss_then_plain_cable(nodes, net_cluster):
    n0, n1 = nodes
    with pytest.raises(qsnet.QsnetError):
        net_cluster.netem(1, delay=5, jitter=10)  # jitter beyond the delay
    net_cluster.netem(1, loss=100)
    lost = tag()
    ethtest(n0, "send %d %d" % (FRAMES, lost), r"ethtest: sent %d frames\n"
            % FRAMES)
    net_cluster.netem(1)
    assert transfer(n0, n1, tag()) == 0  # none of `lost` came first


def ping(node, target, count=3):
    """`ping TARGET COUNT` in NODE's shell; returns (received, output)."""
    out = node.exec("ping %d %d" % (target, count), timeout=TIMEOUT)
    m = re.search(r"^ping: %d sent, (\d+) received$" % count, out, re.M)
    assert m, out
    return int(m.group(1)), out


def test_ping_through_lwip_both_ways(nodes):
    n0, n1 = nodes
    got, out = ping(n0, 1)
    assert got == 3, out
    assert "reply from node 1 (10.0.0.2): seq 3" in out
    got, out = ping(n1, 0)
    assert got == 3, out


def test_ping_absent_node_and_bad_arguments(nodes):
    n0 = nodes[0]
    got, out = ping(n0, 7, 1)  # nobody has 10.0.0.8
    assert got == 0 and "seq 1: timed out" in out, out
    assert "usage: ping NODE" in n0.exec("ping 300")
    assert "usage: ping NODE" in n0.exec("ping 1 0")


def test_pings_do_not_hold_the_cm(nodes):
    """Six pings at once to a node nobody is: two are under way (the rest
    QS_ELIMIT, one client's share), and a request to the CM sent after
    them is answered before they time out: no ping holds its thread."""
    n0 = nodes[0]
    start = n0.log_size()
    pid = n0.run("exhaust pings 7 6")
    m = n0.wait_log(r"exhaust: pings: [^\n]*\n", start=start)
    assert m.group(0) == ("exhaust: pings: 6 sent, 4 limited, 2 timed out; "
                          "the CM answered another request first\n"), \
        n0.log(start)
    assert reap(n0, pid) == "pid %d exited with status 0" % pid


def test_ping_stops_while_link_down(nodes, net_cluster):
    n0, n1 = nodes
    net_cluster.set_link(1, False)
    wait_link(n1, "down")
    got, out = ping(n0, 1, 2)
    assert got == 0, out
    net_cluster.set_link(1, True)
    wait_link(n1, "up")
    got, out = ping(n0, 1, 2)
    assert got == 2, out


def members(node):
    """`nodes` as {id: dict(state, inc, ago, heartbeats, restarts)}, and the
    bad packet count."""
    out = node.exec("nodes")
    m, bad = qsnet.parse_nodes(out)
    assert bad is not None, out
    return m, bad


def wait_member(node, peer, state, inc=None):
    def check():
        m, _ = members(node)
        p = m.get(peer)
        return (p is not None and p["state"] == state and
                (inc is None or p["inc"] == inc)), m
    return node.poll("node %d to see node %d %s" % (node.id, peer, state),
                     check, TIMEOUT)


def test_nodes_hear_each_other(nodes):
    n0, n1 = nodes
    wait_member(n0, 1, "up")
    wait_member(n1, 0, "up")
    m, _ = members(n0)
    assert m[0]["state"] == "up" and m[1]["heartbeats"] > 0, m


def test_killed_node_goes_down_and_comes_back_as_a_new_incarnation(
        nodes, net_cluster):
    n0, n1 = nodes
    wait_member(n0, 1, "up")
    m, _ = members(n0)
    inc, restarts = m[1]["inc"], m[1]["restarts"]
    net_cluster.kill_node(1)
    m = wait_member(n0, 1, "down")
    assert m[1]["ago"] >= 8000, m  # CM_DOWN_MS of silence
    net_cluster.restart_node(1, BOOT_TIMEOUT)
    m = wait_member(n0, 1, "up", inc + 1)
    assert m[1]["restarts"] == restarts + 1, m


def test_link_cut_makes_a_node_down_and_heals(nodes, net_cluster):
    n0, n1 = nodes
    wait_member(n0, 1, "up")
    wait_member(n1, 0, "up")
    net_cluster.set_link(1, False)
    wait_member(n0, 1, "down")
    wait_member(n1, 0, "down")
    net_cluster.set_link(1, True)
    wait_member(n0, 1, "up")
    wait_member(n1, 0, "up")


def test_one_way_cut_is_one_way(nodes, net_cluster):
    """qsnet cut 1 in: node 1 hears nothing and declares node 0 down, while
    node 0 still hears node 1's heartbeats; cut none heals it."""
    n0, n1 = nodes
    wait_member(n1, 0, "up")
    net_cluster.cut(1, "in")
    try:
        wait_member(n1, 0, "down")
        assert members(n0)[0][1]["state"] == "up", n0.exec("nodes")
    finally:
        net_cluster.cut(1, "none")
    wait_member(n1, 0, "up")
    wait_member(n0, 1, "up")


def test_junk_packets_counted_and_membership_goes_on(nodes):
    n0, n1 = nodes
    _, bad0 = members(n1)
    ethtest(n0, "junk 40", r"ethtest: sent 40 junk packets\n")
    def counted():
        m, bad = members(n1)
        return bad >= bad0 + 40, (m, bad)
    m, bad = n1.poll("junk counted", counted, TIMEOUT)
    assert m[0]["state"] == "up" and 5 not in m, m  # the lie made no node
    got, out = ping(n0, 1, 1)
    assert got == 1, out
