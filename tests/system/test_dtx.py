"""Distributed transaction trees on three nodes (servers/tm: commit.c,
tree.c; the CM's edges and piggyback): the `chain` client on node 0 writes a
file on node 1's file server, which logs every operation in a window on
node 2's window manager, all under the client's transaction. The tree is
0 -> 1 -> 2; termination runs down it.

Covered: a two-phase commit across the tree (forces only at the root's
commit point and node 1's prepare and commit; node 2, volatile, forces nothing); each
node's part of the tree in `tx` and `qsnet tree`'s picture; the client
killed (the abort flows down: the window on node 2 closes, the file on node
1 rolls back); the client's node killed (nodes 1 and 2 find the orphan and
abort it); a subordinate that never answers its vote (abort), stays in doubt
and is resolved from the coordinator after its restart; a crash half-way
through that recovery (harmless: it starts again); a link cut in phase
one (abort) and in phase two (the commit completes after the link heals);
coordinator migration, also surviving the death of the owner's node. After
each, no breadcrumb is left on any node."""

import re
import time

import pytest

from qsharness import BOOT_TIMEOUT, PROG_TIMEOUT, Node, cluster_fixture, qsnet
from test_tm import tm_stats

dtx_cluster = cluster_fixture("test-nodes-dtx", n=3)
DIR = "/c"
CUT_S = 5  # the scenario: a cut the CM rides out (< CM_DOWN_MS)
LONG_CUT_S = 10  # ... and one it does not: nodes are declared down


@pytest.fixture(scope="module")
def nodes(dtx_cluster):
    return [Node(dtx_cluster, i) for i in range(3)]  # formed: qsnet up


def wait_all_up(ns):
    """After a cut heals: every node sees every other up again."""
    ns[0].cluster.wait_formed([n.id for n in ns], BOOT_TIMEOUT)


def restart(cluster, node, **once_args):
    if cluster.is_running(node):
        cluster.kill_node(node)
    cluster.restart_node(node, BOOT_TIMEOUT, once_args or None)  # formed


def records(node):
    """`tx` rows (qsnet.parse_tx): tx, owner, coord, state, sup, subs,
    parts."""
    return qsnet.parse_tx(node.exec("tx"))


def crumbs(node):
    """`crumbs`: {"tm.records": N, "fs.handles": N, ..., "cm.heap": N}."""
    out = node.exec("crumbs")
    found = {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] in ("tm", "fs", "wm", "cm"):
            if f[1:] == ["not", "running"]:  # a service between lives
                found["%s.down" % f[0]] = 1
                continue
            assert len(f) % 2 == 1 and len(f) > 1, out
            found.update(("%s.%s" % (f[0], k), int(v))
                         for k, v in zip(f[1::2], f[2::2]))
    assert {k.split(".")[0] for k in found} == {"tm", "fs", "wm", "cm"}, out
    return found


def heaps(node):
    return {k: v for k, v in crumbs(node).items() if k.endswith(".heap")}


def windows(node):
    return crumbs(node)["wm.windows"]


def no_breadcrumbs(ns, heaps_before=None):
    """Every node back at its baseline: no TM record; no file server
    handle, uncommitted transaction, lock, in-doubt transaction or log
    window; no window or window-manager breadcrumb; no CM request in flight,
    remembered answer or recoverable mark; and, given each node's heaps
    before (`heaps`), every server's heap exactly as it was."""
    def clean():
        state = [crumbs(n) for n in ns]
        left = [{k: v for k, v in c.items() if v and not k.endswith(".heap")}
                for c in state]
        if heaps_before:
            left = [dict(l, **{k: (v, c.get(k)) for k, v in h.items()
                               if c.get(k) != v})
                    for l, c, h in zip(left, state, heaps_before)]
        return not any(left), left
    ns[0].poll("no breadcrumbs on any node", clean, PROG_TIMEOUT)


def chain(node, args, line=r"chain: (\d+) committed, (\d+) aborted, "
          r"(\d+) failed\n"):
    start = node.log_size()
    pid = node.run("chain %s %s" % (args, DIR))
    m = node.wait_log(line, PROG_TIMEOUT, start=start)
    return pid, m, node.log(start)


def tx_of(text):
    return re.search(r"chain: (?:tx|holding tx|waiting tx) (\d+\.\d+\.\d+)",
                     text).group(1)


def outcome(node, tx):
    """`tx outcome TX` on node: committed, aborted or undecided. The
    console is shared: a program started at boot may print a line of its
    own among the command's (devtest on a busy host), so the answer is
    the one line that says it."""
    out = node.exec("tx outcome %s" % tx)
    lines = re.findall(r"^tx %s (committed|aborted|undecided)\s*$"
                       % re.escape(tx), out, re.M)
    assert len(lines) == 1, out
    return lines[0]


def files(node):
    out = node.exec("ls %s" % DIR)
    return set(re.findall(r"(\d+\.\d+\.\d+)\s*$", out, re.M))


def test_commit_across_three_nodes(nodes):
    n0, n1, n2 = nodes
    chain(n0, "-r 1")  # makes DIR (its own transaction) and warms the names
    no_breadcrumbs(nodes)
    before = [tm_stats(n) for n in nodes]
    _, m, text = chain(n0, "-r 1")
    assert m.groups() == ("1", "0", "0"), text
    tx = tx_of(text)
    assert tx in files(n1)
    assert n1.exec("cat %s/%s" % (DIR, tx)).count("tx %s op" % tx) == 3
    assert [outcome(n, tx) for n in nodes] == ["committed"] * 3
    no_breadcrumbs(nodes)
    after = [tm_stats(n) for n in nodes]
    d = [{k: a[k] - b[k] for k in a} for a, b in zip(after, before)]
    # the root: two phases, one force (its commit point); a prepare and an
    # end to node 1; before them chain's mkdir transaction (the directory
    # exists: the file server voted read-only) ended after phase one, one
    # message, no force
    assert d[0]["two-phase"] == 1 and d[0]["forces"] == 1, d[0]
    assert d[0]["read-only"] == 1 and d[0]["msgs-out"] == 3, d[0]
    # node 1: prepared (forced), relayed both rounds to node 2, and forced
    # its file server's commit (in the node log) before it acknowledged
    assert d[1]["forces"] == 2 and d[1]["msgs-in"] == 3, d[1]
    assert d[1]["msgs-out"] == 2, d[1]
    # node 2: only a volatile participant: no force
    assert d[2]["forces"] == 0 and d[2]["msgs-in"] == 2, d[2]


def test_tree_seen_then_client_killed(nodes, dtx_cluster, tmp_path):
    n0, n1, n2 = nodes
    before = [heaps(n) for n in nodes]  # warm: transactions ran already
    pid, m, text = chain(n0, "-hold", r"chain: holding tx \S+\n")
    tx = tx_of(text)
    r0, r1, r2 = ([r for r in records(n) if r["tx"] == tx] for n in nodes)
    assert r0 and r0[0]["owner"] == pid and r0[0]["subs"] == [1], r0
    assert r1 and r1[0]["owner"] is None and (r1[0]["sup"], r1[0]["subs"]) == \
        (0, [2]), r1
    assert any(p["cls"] == "recoverable" for p in r1[0]["parts"]), r1
    assert r2 and r2[0]["sup"] == 1 and \
        any(p["cls"] == "volatile" for p in r2[0]["parts"]), r2
    assert windows(n2) == 1 and "fs: tx %s" % tx in n2.exec("win")
    # qsnet tree: the whole tree, collected from every node, as a picture
    tree = qsnet.build_tree(tx, dtx_cluster.tx_outputs())
    assert sorted(tree["nodes"]) == [0, 1, 2] and \
        tree["edges"] == [(0, 1), (1, 2)], tree
    assert [p["name"] for p in tree["nodes"][2]["procs"]] == ["wm"], tree
    png, _ = qsnet.write_tree(tree, str(tmp_path / "tree.png"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert crumbs(n1)["fs.locks"] and crumbs(n1)["cm.marks"] >= 1
    assert [outcome(n, tx) for n in nodes] == ["undecided"] * 3
    n0.kill(pid)
    no_breadcrumbs(nodes, before)
    assert tx not in files(n1)  # rolled back
    assert [outcome(n, tx) for n in nodes] == ["aborted"] * 3


def test_client_node_killed_orphans_abort(nodes, dtx_cluster):
    n0, n1, n2 = nodes
    orphans = tm_stats(n1)["orphans"]
    before = [heaps(n) for n in nodes[1:]]
    _, _, text = chain(n0, "-hold", r"chain: holding tx \S+\n")
    tx = tx_of(text)
    assert windows(n2) == 1
    dtx_cluster.kill_node(0)
    # CM_DOWN_MS later node 1 finds its superior gone: abort, and down to 2
    no_breadcrumbs(nodes[1:], before)
    assert tm_stats(n1)["orphans"] == orphans + 1
    assert tx not in files(n1)
    restart(dtx_cluster, 0)
    no_breadcrumbs(nodes)


def test_silent_subordinate_aborts_and_resolves_after_restart(
        nodes, dtx_cluster):
    n0, n1, n2 = nodes
    # node 1 stalls after forcing "prepared", before it answers the vote
    restart(dtx_cluster, 1, tm_stall="prepared")
    start1 = n1.log_size()
    _, m, text = chain(n0, "-r 1")
    assert m.groups() == ("0", "1", "0"), text  # no vote in time: abort
    tx = tx_of(text)
    assert "did not vote\n" not in text
    n1.wait_log(r"tm: stalled prepared: %s" % re.escape(tx), start=start1)
    # node 2 voted yes (volatile) and waits, in doubt, under node 1
    assert [r["state"] for r in records(n2) if r["tx"] == tx] == ["prepared"]
    # node 1 crashes while prepared; its restart finds it in the log, asks
    # node 0 (which presumes abort), and tells node 2
    restart(dtx_cluster, 1)
    # (entries the crash kept are in doubt too: their unforced ends were
    # lost with it, and they resolve the same way)
    s = tm_stats(n1)
    assert s["recovered-in-doubt"] >= 1, s
    n1.wait_log(r"tm: in-doubt %s aborted \(node 0 said\)" % re.escape(tx))
    no_breadcrumbs(nodes)
    assert tm_stats(n1)["resolved"] >= 1
    assert tx not in files(n1)
    assert "fs: in-doubt transaction %s aborted" % tx in n1.log()


def stalled_at_commit_point(cluster, nodes):
    """`chain -r 1` with node 0 stopped at its commit point ("committed"
    forced, nobody told yet); returns the transaction."""
    n0 = nodes[0]
    restart(cluster, 0, tm_stall="logged")
    start = n0.log_size()
    n0.run("chain -r 1 %s" % DIR)
    return n0.wait_log(r"tm: stalled logged: (\S+)\n", PROG_TIMEOUT,
                       start=start).group(1)


def test_crash_during_recovery_is_harmless(nodes, dtx_cluster):
    n0, n1, n2 = nodes
    tx = stalled_at_commit_point(dtx_cluster, nodes)
    # node 1 is prepared (its TM's log and its file server's); both die
    dtx_cluster.kill_node(1)
    dtx_cluster.kill_node(0)
    dtx_cluster.restart_node(0, BOOT_TIMEOUT)  # its log still has the commit
    # node 1 recovers: it learns the commit, its file server commits, node
    # 2 hears it, and node 1 crashes before its TM forgets the transaction
    dtx_cluster.restart_node(1, BOOT_TIMEOUT, {"tm_stall": "resolved"})
    n1.wait_log(r"tm: stalled resolved: %s" % re.escape(tx), PROG_TIMEOUT)
    n1.wait_log(r"fs: in-doubt transaction %s committed" % re.escape(tx),
                PROG_TIMEOUT)
    dtx_cluster.kill_node(1)
    # recovery again from what its TM's log says: in doubt still (it asks
    # node 0 again), or committed with node 2 to tell (if node 2 had not
    # acknowledged yet, the commit was forced before the crash); the file
    # server has nothing left to do
    restart(dtx_cluster, 1)
    s = tm_stats(n1)
    assert s["recovered-in-doubt"] + s["recovered-committed"] >= 1, s
    no_breadcrumbs(nodes)
    assert "fs: in-doubt transaction" not in n1.log()
    assert tx in files(n1)
    assert n1.exec("cat %s/%s" % (DIR, tx)).count("tx %s op" % tx) == 3
    assert outcome(n1, tx) == outcome(n2, tx) == "committed"
    restart(dtx_cluster, 0)


def test_link_cut_in_phase_one_aborts(nodes, dtx_cluster):
    n0, n1, _ = nodes
    start = n0.log_size()
    n0.run("chain -r 1 -wait 5000 %s" % DIR)
    text = n0.wait_log(r"chain: waiting tx \S+\n", start=start).group(0)
    tx = tx_of(text)
    dtx_cluster.set_link(1, False)
    try:
        m = n0.wait_log(r"chain: tx %s (\w+)" % re.escape(tx), PROG_TIMEOUT,
                        start=start)
        assert m.group(1) == "aborted", n0.log(start)
    finally:
        dtx_cluster.set_link(1, True)
    no_breadcrumbs(nodes)
    assert tx not in files(n1)


def test_link_cut_in_phase_two_commits_after_heal(nodes, dtx_cluster):
    n0, n1, _ = nodes
    # node 0 pauses 2 s at its commit point (logged, nobody told yet)
    restart(dtx_cluster, 0, tm_stall="logged", tm_stall_ms="2000")
    start = n0.log_size()
    n0.run("chain -r 1 %s" % DIR)
    m = n0.wait_log(r"tm: stalled logged: (\S+)\n", PROG_TIMEOUT, start=start)
    dtx_cluster.set_link(0, False)
    try:
        time.sleep(LONG_CUT_S)  # the scenario: longer than CM_DOWN_MS
    finally:
        dtx_cluster.set_link(0, True)
    m = n0.wait_log(r"chain: tx (\S+) (\w+)\n", PROG_TIMEOUT, start=start)
    assert m.group(2) == "committed", n0.log(start)
    wait_all_up(nodes)
    no_breadcrumbs(nodes)
    assert m.group(1) in files(n1)
    restart(dtx_cluster, 0)


def test_delegated_coordinator_commits(nodes):
    n0, n1, _ = nodes
    before = [tm_stats(n) for n in nodes]
    _, m, text = chain(n0, "-r 1 -delegate 1")
    assert m.groups() == ("1", "0", "0"), text
    assert tx_of(text) in files(n1)
    no_breadcrumbs(nodes)
    after = [tm_stats(n) for n in nodes]
    assert after[0]["delegated"] == before[0]["delegated"] + 1
    assert after[1]["two-phase"] == before[1]["two-phase"] + 1
    assert after[0]["forces"] == before[0]["forces"]  # read-only there


def test_delegated_commit_survives_the_owner_node(nodes, dtx_cluster):
    n0, n1, _ = nodes
    restart(dtx_cluster, 0, tm_stall="handed")
    start = n0.log_size()
    n0.run("chain -r 1 -delegate 1 %s" % DIR)
    m = n0.wait_log(r"tm: stalled handed: (\S+)\n", PROG_TIMEOUT, start=start)
    tx = m.group(1)
    dtx_cluster.kill_node(0)
    n1.poll("the commit at node 1", lambda: (tx in files(n1), None),
            PROG_TIMEOUT)
    no_breadcrumbs(nodes[1:])
    restart(dtx_cluster, 0)
    no_breadcrumbs(nodes)


def test_dead_recoverable_participant_dooms_the_transaction(
        nodes, dtx_cluster):
    n0, n1, _ = nodes
    start = n0.log_size()
    n0.run("chain -r 1 -wait 5000 %s" % DIR)
    # the file server on node 1 has the writes, then dies before the commit
    # (the pause is chain's -wait: the scenario, not a synchronisation)
    tx = tx_of(n0.wait_log(r"chain: waiting tx \S+\n", start=start).group(0))
    fs = [p["pid"] for p in n1.ps() if p["name"] == "fs"]
    n1.kill(fs[0])
    m = n0.wait_log(r"chain: tx %s (\w+)" % re.escape(tx), PROG_TIMEOUT,
                    start=start)
    assert m.group(1) == "aborted", n0.log(start)
    restart(dtx_cluster, 1)  # the file server back, rolled back
    no_breadcrumbs(nodes)
    assert tx not in files(n1)
