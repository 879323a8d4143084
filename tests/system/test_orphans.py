"""Orphan cleanup on one node, seen on the screen: a window is a breadcrumb
of its client's transaction, so it vanishes when the client is killed,
crashes or exits, when its transaction is aborted from the shell, when a
participant votes no or never votes. 100 random kill cycles leave no
windows, no uncommitted files or file handles, no TM records and no leaked
heap in the WM, the file server and the TM."""

import random

import pytest

from qsharness import Node, cluster_fixture, screen
from test_fs import df
from test_guest import reap
from test_tm import participant, stop, tm_stats, tx_rows, txdemo
from test_wm import (BACKGROUND, assert_window_drawn, open_window, windows,
                     wm_stats)

VOTE_MS = 1500
orphan_cluster = cluster_fixture("test-nodes-orphans", conf="test.conf",
                                 args={"tm_vote_ms": str(VOTE_MS)})


@pytest.fixture(scope="module")
def node(orphan_cluster):
    return Node(orphan_cluster, 0)


@pytest.fixture
def scr(orphan_cluster, tmp_path):
    return lambda: screen(orphan_cluster, 0, tmp_path)


def assert_background(shot, w):
    bg = bytes(BACKGROUND)
    for y in range(w["y"], w["y"] + w["h"]):
        assert shot.span(w["x"], y, w["w"]) == bg * w["w"], \
            "row %d of %r is not background" % (y, w)


def assert_screen_empty(shot):
    """Nothing but background above the status line (at most 40 rows)."""
    assert_background(shot, dict(x=0, y=0, w=shot.width, h=shot.height - 40))


def wait_closed(node, wid):
    node.poll("window %d to close" % wid,
              lambda: (all(w["id"] != wid for w in windows(node)),
                       windows(node)))


def the_window(node, wid):
    rows = [w for w in windows(node) if w["id"] == wid]
    assert len(rows) == 1, windows(node)
    return rows[0]


@pytest.fixture(autouse=True)
def no_windows_before(node):
    node.poll("no windows", lambda: (windows(node) == [], windows(node)))


def test_a_killed_clients_window_vanishes(node, scr):
    pid, wid = open_window(node, "demo")
    w = the_window(node, wid)
    assert w["pid"] == pid and w["title"] == "demo"
    # the window's rectangle shows a window: non-background pixels and text
    node.poll("the window drawn with text", lambda: (
        _drawn(scr(), w), None))
    node.kill(pid)
    wait_closed(node, wid)
    assert_background(scr(), w)
    assert tx_rows(node) == {}


def _drawn(shot, w):
    try:
        assert_window_drawn(shot, w)
        return True
    except AssertionError:
        return False


@pytest.mark.parametrize("how", ["crash", "exit 2"])
def test_a_crashed_or_finished_clients_window_vanishes(node, scr, how):
    s0 = wm_stats(node)
    start = node.log_size()
    pid = node.run("winclient gone %s" % how)
    wid = int(node.wait_log(r"winclient: window (\d+) open$", start=start)
              .group(1))
    status = reap(node, pid)
    assert status == ("pid %d died of a fault" % pid if how == "crash" else
                      "pid %d exited with status 0" % pid), status
    wait_closed(node, wid)
    s1 = wm_stats(node)
    assert s1["by_tx"] == s0["by_tx"] + 1 and s1["crumbs"] == 0, (s0, s1)
    assert_screen_empty(scr())


def test_tx_abort_closes_the_windows_of_that_transaction(node, scr):
    pid, wid = open_window(node, "victim")
    w = the_window(node, wid)
    start = node.log_size()
    out = node.exec("tx abort %s" % w["tx"])
    assert "tx %s aborted" % w["tx"] in out.splitlines(), out
    wait_closed(node, wid)
    assert_background(scr(), w)
    # the client's next write finds its window gone, and it says so
    node.wait_log(r"winclient: victim: no such entry\n", start=start)
    assert reap(node, pid) == "pid %d exited with status 1" % pid


def test_txdemo_commit_and_abort_close_the_window(node):
    for how, said in (("commit", "committed"), ("abort", "aborted")):
        pid, tx, start = txdemo(node, how)
        node.wait_log(r"txdemo: window \d+ open\n", start=start)
        node.wait_log(r"txdemo: tx %s %s\n" % (tx, said), start=start)
        assert all(w["tx"] != tx for w in windows(node))
        reap(node, pid)


def test_a_no_vote_aborts_everywhere(node, scr):
    yes, no = participant(node, "yes", "oy1"), participant(node, "no", "on1")
    pid, tx, start = txdemo(node, "commit oy1 on1")
    wid = int(node.wait_log(r"txdemo: window (\d+) open\n", start=start)
              .group(1))
    node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
    node.wait_log(r"oy1: tx %s aborted\n" % tx, start=start)
    node.wait_log(r"on1: tx %s aborted\n" % tx, start=start)
    assert all(w["id"] != wid for w in windows(node))  # gone before commit returned
    assert_screen_empty(scr())
    reap(node, pid)
    stop(node, yes, no)


def test_a_participant_that_never_votes_aborts_after_the_deadline(node, scr):
    silent = participant(node, "silent", "os1")
    pid, tx, start = txdemo(node, "commit os1")
    wid = int(node.wait_log(r"txdemo: window (\d+) open\n", start=start)
              .group(1))
    node.wait_log(r"tm: %s: pid %d did not vote within %d ms: abort\n"
                  % (tx, silent, VOTE_MS), start=start)
    node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
    assert all(w["id"] != wid for w in windows(node))
    assert_screen_empty(scr())
    reap(node, pid)
    stop(node, silent)


def server_heaps(node):
    """Each server's heap in use, from `crumbs`: what a leak grows. (Its
    pages may grow once to a new high-water mark, and stay.)"""
    return {f[0]: int(f[f.index("heap") + 1])
            for f in map(str.split, node.exec("crumbs").splitlines())
            if f and f[0] in ("wm", "tm", "fs") and "heap" in f}


def kill_cycle(node, rng, i):
    """Start 1-3 window clients, and maybe a client writing a file it never
    commits, and kill them at random points: before their window or file
    exists, right after, or a while later."""
    pids = []
    if rng.random() < 0.5:
        pids.append(node.run("fsclient hold /orphan%d uncommitted" % i))
    for k in range(rng.randint(1, 3)):
        title = "c%d.%d" % (i, k)
        pid = node.run("winclient " + title)
        if rng.random() < 0.6:  # (the log could show another's "open" line)
            node.poll("window " + title, lambda: (
                any(w["title"] == title for w in windows(node)), None))
            if rng.random() < 0.3:
                node.exec("win")  # and a little later
        pids.append(pid)
    rng.shuffle(pids)
    for pid in pids:
        node.kill(pid)
        reap(node, pid)


def test_100_random_kill_cycles_leave_nothing(node):
    seed = random.randrange(1 << 30)
    print("seed", seed)
    rng = random.Random(seed)
    for i in range(5):  # warm up: the servers' heaps reach their size
        kill_cycle(node, rng, i)
    node.poll("no windows", lambda: (windows(node) == [], windows(node)))
    heaps0 = server_heaps(node)
    assert set(heaps0) == {"wm", "tm", "fs"}, heaps0
    s0 = wm_stats(node)
    for i in range(100):
        kill_cycle(node, rng, 100 + i)
    node.poll("no windows", lambda: (windows(node) == [], windows(node)))
    s = wm_stats(node)
    assert s["windows"] == 0 and s["crumbs"] == 0, s
    assert s["created"] > s0["created"], (s0, s)
    t = tm_stats(node)
    assert t["records"] == 0 and t["participants"] == 0, t
    assert tx_rows(node) == {}
    d = df(node)
    assert d["handles"] == 0 and d["locks"] == 0 and d["transactions"] == 0, d
    assert "orphan" not in node.exec("ls"), "seed %d" % seed
    node.poll("the servers' heaps back to their level", lambda: (
        server_heaps(node) == heaps0, (seed, heaps0, server_heaps(node))))
