"""The file server on recoverable memory, in both modes: files as committed
survive a killed QEMU, uncommitted writes vanish when their client dies or
the node is killed, a 2PC interrupted by a node kill ends atomically, and a
full file system gives a clean error. The in-guest fsclient suite covers the
API, isolation and bad requests."""

import re

import pytest

from qsharness import Node, boot_cluster, cluster_fixture
from test_guest import failures, reap, wait_summary

lrvm_cluster = cluster_fixture("test-nodes-fs", conf="test.conf")
vista_cluster = cluster_fixture("test-nodes-fs-vista", conf="test.conf",
                                args={"fs_mode": "vista"})
mutewm_cluster = cluster_fixture("test-nodes-fs-mutewm", conf="mutewm.conf")


@pytest.fixture(scope="module", params=["lrvm", "vista"])
def node(request):
    cl = request.getfixturevalue(request.param + "_cluster")
    return Node(cl, 0)


def df(node):
    """`df` as a dict of its counters."""
    out = node.exec("df")
    assert re.search(r"^fs: (lrvm|vista), blocks", out, re.M), out
    vals = {}
    for m in re.finditer(r"([a-z-]+) (\d+)", out):
        vals[m.group(1)] = int(m.group(2))
    vals["mode"] = re.search(r"^fs: (\w+),", out, re.M).group(1)
    m = re.search(r"blocks (\d+) free (\d+)", out)
    vals["blocks"], vals["blocks-free"] = int(m.group(1)), int(m.group(2))
    return vals


def cat(node, path):
    return node.exec("cat " + path)


def restart(node):
    """Kill the node's QEMU (no shutdown at all) and boot it again."""
    node.cluster.kill_node(node.id)
    node.cluster.restart_node(node.id)
    node.wait_log(r"fs: serving queue fs")


def hold(node, path, text):
    """fsclient writes PATH under its default transaction and waits."""
    start = node.log_size()
    pid = node.run("fsclient hold %s %s" % (path, text))
    node.wait_log(r"fsclient: wrote %s under \S+, holding: success" % path,
                  start=start)
    return pid


def test_mode(node, request):
    assert df(node)["mode"] == request.node.callspec.params["node"]


FSTEST_CHECKS = 60  # tests/guest/fstest.c, with a window manager up
MUTE_CHECKS = 7     # fstest mute
FS_CLIENT_HANDLES, FS_CLIENT_TXS = 64, 16  # libqs/include/qs/fs.h


def test_fstest_in_guest(node):
    node.wait_log(r"wm: serving queue wm")  # fstest's log checks need it
    start = node.log_size()
    pid = node.run("fstest")
    passed, failed, log = wait_summary(node, "fstest", start)
    assert (passed, failed) == (FSTEST_CHECKS, 0), failures(log) or log
    reap(node, pid)
    # its over-limit client (test_limits) says what the fs refused it
    assert re.search(r"^fstest: hog: %d transactions, then 1 refused$"
                     % FS_CLIENT_TXS, log, re.M), log
    assert re.search(r"^fstest: hog: %d handles, then over a limit of the "
                     r"process: as expected$" % FS_CLIENT_HANDLES, log,
                     re.M), log
    d = df(node)
    assert d["limited"] >= 2 and d["handles"] == 0, d


def test_log_window_manager_that_never_answers(mutewm_cluster):
    """FS_OP_LOG to a "window manager" that takes the request and never
    answers (`fstest mutewm` holds the name wm in mutewm.conf): the fs
    serves other clients meanwhile, and answers the client QS_ETIMEDOUT
    after FS_LOG_TIMEOUT_MS."""
    node = Node(mutewm_cluster, 0)
    node.wait_log(r"fstest: mute wm: up")
    start = node.log_size()
    pid = node.run("fstest mute")
    passed, failed, log = wait_summary(node, "fstest", start)
    assert (passed, failed) == (MUTE_CHECKS, 0), failures(log) or log
    reap(node, pid)
    assert re.search(r"fs: log window on wm for tx \S+: no answer in "
                     r"10000 ms", log), log
    d = df(node)  # the shell is served too, and nothing is left
    assert d["log-windows"] == 0 and d["handles"] == 0, d


def test_shell_commands(node):
    out = node.exec("mkdir /docs")
    assert "mkdir" not in out, out
    assert "wrote 12 bytes to /docs/note" in node.exec(
        "write /docs/note hello world")
    assert cat(node, "/docs/note") == "hello world\n"
    out = node.exec("ls /docs")
    assert re.search(r"^-\s+12 note$", out, re.M), out
    assert re.search(r"^d\s+docs/$", node.exec("ls"), re.M)
    assert "no such entry" in cat(node, "/docs/nothing")
    assert "not a directory" in node.exec("ls /docs/note")
    assert "directory not empty" in node.exec("rm /docs")
    assert "name too long" in node.exec("write /%s x" % ("n" * 40))
    assert "usage: cat FILE" in node.exec("cat")
    node.exec("rm /docs/note")
    node.exec("rm /docs")
    assert "docs" not in node.exec("ls")
    d = df(node)
    assert d["handles"] == 0 and d["locks"] == 0 and d["transactions"] == 0


def test_uncommitted_write_vanishes_when_client_killed(node):
    pid = hold(node, "/held", "uncommitted")
    d = df(node)
    assert d["handles"] == 1 and d["transactions"] == 1
    assert "busy" in cat(node, "/held")  # locked by its transaction
    node.kill(pid)
    reap(node, pid)
    assert "no such entry" in cat(node, "/held")
    d = df(node)
    assert d["handles"] == 0 and d["locks"] == 0 and d["transactions"] == 0


def test_committed_file_survives_killed_qemu(node):
    node.exec("write /kept survives a crash")
    restart(node)
    assert cat(node, "/kept") == "survives a crash\n"


def test_kill_node_mid_transaction_gives_old_image(node):
    node.exec("write /mid old contents")
    hold(node, "/mid", "new-and-uncommitted")
    restart(node)
    assert cat(node, "/mid") == "old contents\n"
    d = df(node)
    assert d["in-doubt"] == 0 and d["locks"] == 0


@pytest.mark.parametrize("mode", ["lrvm", "vista"])
@pytest.mark.parametrize("point,outcome", [("voted", "aborted"),
                                           ("logged", "committed")])
def test_kill_node_during_two_phase_commit(mode, point, outcome,
                                           tmp_path_factory):
    """The TM stops at a point of the first 2PC; the node is killed there.
    Before the commit point the write is gone, after it the write is there:
    the file server finds it in doubt and asks the TM's log. In LRVM mode
    the fs's PREPARE is in the node log unforced, so before the commit
    point (nothing forced it) it may be lost with the crash: then there
    is nothing in doubt, and nothing was written."""
    state = str(tmp_path_factory.mktemp("fs-2pc-%s-%s" % (mode, point)))
    cl = boot_cluster(state, conf="test.conf",
                      args={"tm_stall": point, "fs_mode": mode})
    try:
        node = Node(cl, 0)
        start = node.log_size()
        node.run("fsclient commit /twopc %s" % point)
        node.wait_log(r"tm: stalled %s: " % point, start=start)
        restart(node)
        log = node.log()
        doubts = re.findall(r"fs: in-doubt transaction \S+ (\w+)", log)
        if mode == "lrvm" and outcome == "aborted":
            assert doubts in ([], ["aborted"]), log
        else:
            assert doubts == [outcome], log
        text = cat(node, "/twopc")
        if outcome == "committed":
            assert text == point
        else:
            assert "no such entry" in text
        assert df(node)["in-doubt"] == 0
    finally:
        cl.down()


def test_full_file_system_is_a_clean_error(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("fs-full"))
    cl = boot_cluster(state, conf="test.conf", args={"fs_size": "128"})
    try:
        node = Node(cl, 0)
        node.exec("write /precious keep me")
        start = node.log_size()
        pid = node.run("fsclient fill /big")
        m = node.wait_log(r"fsclient: fill: (\d+) bytes written, then: (.*)\n",
                          start=start)
        reap(node, pid)
        assert m.group(2) == "no space left" and int(m.group(1)) > 50000
        assert "no space left" in node.exec("write /more x")
        assert cat(node, "/precious") == "keep me\n"
        d = df(node)
        assert d["blocks-free"] < 3 and d["locks"] == 0 and d["handles"] == 0
        node.exec("rm /big.0")
        assert "wrote 2 bytes" in node.exec("write /more x")
        restart(node)
        assert cat(node, "/precious") == "keep me\n"
        assert cat(node, "/more") == "x\n"
    finally:
        cl.down()


def committed_under(node, path):
    """fsclient commit PATH; returns the transaction's incarnation part."""
    start = node.log_size()
    pid = node.run("fsclient commit %s x" % path)
    m = node.wait_log(r"fsclient: commit \d+\.(\d+)\.\d+: success", start=start)
    reap(node, pid)
    return int(m.group(1))


def test_restarted_node_has_a_new_incarnation(node):
    """Transaction ids carry the node's incarnation, so those of a restarted
    node never repeat the ones the TM's and RVM's logs hold."""
    before = committed_under(node, "/inc")
    restart(node)
    assert committed_under(node, "/inc") == before + 1
    assert "did not advance" not in node.log()
