"""The chain demo on one node (chain -f fs -w wm): a client writes a file
under its transaction while the file server logs each operation in a window
of the window manager (FS_OP_LOG). The window and the fs's log entry last as
long as the transaction; a killed client leaves nothing behind. The
distributed version (fs@1, wm@2) is the same code through the CM."""

import re

import pytest

from qsharness import Node, cluster_fixture
from test_guest import failures, reap, wait_summary
from test_wm import windows, wm_stats
from test_fs import FSTEST_CHECKS

chain_cluster = cluster_fixture("test-nodes-chain", conf="test.conf")

SUMMARY = r"chain: (\d+) committed, (\d+) aborted, (\d+) failed\n"


@pytest.fixture(scope="module")
def node(chain_cluster):
    n = Node(chain_cluster, 0)
    n.wait_log(r"wm: serving queue wm")
    return n


def df(node):
    out = node.exec("df")
    m = re.search(r"^fs: handles (\d+) transactions (\d+) locks (\d+) "
                  r"in-doubt (\d+) log-windows (\d+)$", out, re.M)
    assert m, out
    keys = "handles transactions locks in_doubt log_windows".split()
    return dict(zip(keys, map(int, m.groups())))


def assert_clean(node):
    """No handle, lock, transaction or log entry left in the fs, and no
    log window left in the wm."""
    def clean():
        d = df(node)
        titles = [w["title"] for w in windows(node)
                  if w["title"].startswith("fs: tx")]
        return (d["handles"] == d["locks"] == d["transactions"] ==
                d["log_windows"] == 0 and not titles), (d, titles)
    node.poll("the fs and the wm to be clean", clean)


def run_chain(node, args):
    """`run chain -f fs -w wm ARGS`; returns (pid, log offset)."""
    start = node.log_size()
    pid = node.run("chain -f fs -w wm " + args)
    return pid, start


def finish(node, pid, start):
    """Waits for chain's summary; returns (committed, aborted, failed, log)."""
    m = node.wait_log(SUMMARY, start=start)
    reap(node, pid)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)),
            node.log(start))


def lines(txt, n):
    return "".join("tx %s op %d\n" % (txt, k) for k in range(1, n + 1))


def test_committed_round(node):
    before = wm_stats(node)
    pid, start = run_chain(node, "/c")
    c, a, f, log = finish(node, pid, start)
    assert (c, a, f) == (1, 0, 0), log
    txt = re.search(r"chain: tx (\d+\.\d+\.\d+) committed\r?\n", log)
    assert txt, log
    txt = txt.group(1)
    assert node.exec("cat /c/%s" % txt) == lines(txt, 3)
    after = wm_stats(node)
    # the fs's log window was made in the round and closed by its end
    assert after["created"] == before["created"] + 1, (before, after)
    assert after["by_tx"] == before["by_tx"] + 1, (before, after)
    assert_clean(node)


def test_rounds(node):
    pid, start = run_chain(node, "-n 2 -r 3 /r")
    c, a, f, log = finish(node, pid, start)
    assert (c, a, f) == (3, 0, 0), log
    txts = re.findall(r"chain: tx (\S+) committed\r?\n", log)
    assert len(set(txts)) == 3, log
    for txt in txts:
        assert node.exec("cat /r/%s" % txt) == lines(txt, 2)
    assert_clean(node)


def test_hold_then_kill_cleans_up(node):
    pid, start = run_chain(node, "-hold /h")
    m = node.wait_log(r"chain: holding tx (\S+)\n", start=start)
    txt = m.group(1)
    title = re.compile(r"^fs: tx %s \(\d+:%d\)$" % (re.escape(txt), pid))
    wins = [w for w in windows(node) if title.match(w["title"])]
    assert len(wins) == 1, windows(node)
    assert wins[0]["tx"] == txt
    d = df(node)
    assert d["log_windows"] == 1 and d["transactions"] == 1, d
    assert d["handles"] == 0, d  # chain closed its file
    assert "busy" in node.exec("cat /h/%s" % txt)  # its transaction's lock

    node.kill(pid)
    reap(node, pid)
    assert_clean(node)
    assert "no such entry" in node.exec("cat /h/%s" % txt)
    assert "log window" not in node.log(start)  # no failed window write


def test_abort(node):
    pid, start = run_chain(node, "-abort -n 5 /a")
    c, a, f, log = finish(node, pid, start)
    assert (c, a, f) == (0, 1, 0), log
    txt = re.search(r"chain: tx (\S+) aborted\r?\n", log).group(1)
    assert "no such entry" in node.exec("cat /a/%s" % txt)
    assert_clean(node)


def test_bad_input(node):
    pid, start = run_chain(node, "-w nosuchwm /b")
    c, a, f, log = finish(node, pid, start)
    assert (c, a, f) == (0, 0, 1), log
    assert re.search(r"chain: tx \S+ failed: log window on queue nosuchwm: "
                     r"invalid argument", log), log
    assert_clean(node)

    # a log window on the file server's own queue: it used to call itself
    # and hang for good; only a window manager's queue is called now
    pid, start = run_chain(node, "-w fs /b")
    c, a, f, log = finish(node, pid, start)
    assert (c, a, f) == (0, 0, 1), log
    assert re.search(r"chain: tx \S+ failed: log window on queue fs: "
                     r"invalid argument", log), log
    assert_clean(node)

    start = node.log_size()
    pid = node.run("chain -f nosuchfs /b")
    m = node.wait_log(r"chain: no file server at queue nosuchfs: .*\n",
                      start=start)
    assert m
    reap(node, pid)

    for args in ["", "-n 0 /b", "-r x /b", "-f", "/b /c", "-bogus /b",
                 "-w %s /b" % ("w" * 40)]:
        start = node.log_size()
        pid = node.run("chain " + args)
        node.wait_log(r"usage: chain \[-f FSQUEUE\]", start=start)
        assert "status 1" in reap(node, pid)

    # unterminated, too long and empty names: the in-guest suite's log checks
    start = node.log_size()
    pid = node.run("fstest")
    passed, failed, log = wait_summary(node, "fstest", start)
    assert (passed, failed) == (FSTEST_CHECKS, 0), failures(log) or log
    assert "log: a queue name without its end" in log, log
    reap(node, pid)

    # the fs keeps serving
    assert "wrote 2 bytes" in node.exec("write /b/after x")
    assert node.exec("cat /b/after") == "x\n"
    assert_clean(node)
