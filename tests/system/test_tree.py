"""`qsnet tree TXID`: host-only tests of the parsing and drawing on canned
`tx`/`ps` output of three nodes, the command's errors, and one live node
holding a transaction open."""

import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

from qsharness import QSNET_PATH, qsnet

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER = "TX           OWNER COORD STATE     SUP   SUBS  PARTICIPANTS\n"
PS_HEADER = "  PID PARENT NAME             STATE     THREADS PAGES  TICKS\n"

# node 0 owns 0.3.17 and is its root, with subordinates 1 and 2; node 1 has
# prepared, node 2 is still active with a volatile participant
OUTPUTS = {
    0: (HEADER +
        "0.3.17          12     0 active    -     1,2   6:volatile 9:recoverable(yes)\n"
        "0.3.18          13     0 active    -     -     6:volatile\n"
        "[kernel] something unrelated\n",
        PS_HEADER +
        "    6      1 wm               running         7   811      2\n"
        "    9      1 fs               running         2   692      2\n"
        "   12      8 txdemo           running         1    58      0\n"),
    1: (HEADER +
        "0.3.17           -     0 prepared  0     -     7:recoverable(yes) 8:volatile\n",
        PS_HEADER +
        "    7      1 fs               running         2   692      2\n"
        "    8      1 voteno           running         1    58      0\n"),
    2: (HEADER +
        "this line does not parse\n"
        "0.3.17           -     0 active    0     -     6:volatile\n",
        PS_HEADER +
        "    6      1 wm               running         7   811      2\n"),
    3: (HEADER + "1.1.4            5     1 active    -     -     \n",
        PS_HEADER),
}


def run(state, *args, cwd=None):
    env = dict(os.environ, QSNET_STATE=str(state))
    return subprocess.run([sys.executable, QSNET_PATH] + list(args), env=env,
                          capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == PNG_SIGNATURE
    w, h = struct.unpack(">II", data[16:24])
    assert 100 <= w <= 5000 and 50 <= h <= 5000, (w, h)
    assert len(data) > 1000
    return w, h


def test_parse_tx_is_tolerant():
    rows = qsnet.parse_tx(
        HEADER +
        "0.3.17          12     0 active    -     1,2   12:volatile 9:recoverable(yes)\n"
        "0.3.17           -     0 pondering 4     -     7:weird(maybe)\n"
        "tx: no such queue\n"
        "0.3 12 0 active - -\n")
    assert len(rows) == 2
    assert rows[0] == dict(tx="0.3.17", owner=12, coord=0, state="active",
                           sup=None, subs=[1, 2],
                           parts=[dict(pid=12, cls="volatile", vote=None),
                                  dict(pid=9, cls="recoverable", vote="yes")])
    assert rows[1]["owner"] is None and rows[1]["sup"] == 4
    assert rows[1]["state"] == "pondering"
    assert rows[1]["parts"] == [dict(pid=7, cls="weird", vote="maybe")]


def test_parse_ps():
    names = qsnet.parse_ps(OUTPUTS[0][1] + "ps: oops\n")
    assert names == {6: "wm", 9: "fs", 12: "txdemo"}


def test_build_tree_of_three_nodes():
    tree = qsnet.build_tree("0.3.17", OUTPUTS)
    assert tree["tx"] == "0.3.17"
    assert sorted(tree["nodes"]) == [0, 1, 2]  # node 3 has no record
    assert tree["edges"] == [(0, 1), (0, 2)]
    n0, n1, n2 = (tree["nodes"][n] for n in (0, 1, 2))
    assert n0["coordinator"] and n0["root"] and n0["state"] == "active"
    assert not n1["coordinator"] and not n1["root"]
    assert n1["state"] == "prepared" and n2["state"] == "active"
    assert {n["coord"] for n in (n0, n1, n2)} == {0}
    procs = lambda n: [(p["name"], p["pid"], p["cls"], p["vote"], p["owner"])
                       for p in n["procs"]]
    # the owner txdemo is no participant: it gets a box of its own
    assert procs(n0) == [("wm", 6, "volatile", None, False),
                         ("fs", 9, "recoverable", "yes", False),
                         ("txdemo", 12, None, None, True)]
    assert procs(n1) == [("fs", 7, "recoverable", "yes", False),
                         ("voteno", 8, "volatile", None, False)]
    assert procs(n2) == [("wm", 6, "volatile", None, False)]


def test_build_tree_without_a_record():
    assert qsnet.build_tree("0.3.99", OUTPUTS) is None
    assert qsnet.build_tree("0.3.17", {}) is None


def test_dot_names_every_node_and_participant_and_renders(tmp_path):
    if not shutil.which("dot"):
        pytest.fail("dot (graphviz) missing: run scripts/deps.sh")
    tree = qsnet.build_tree("0.3.17", OUTPUTS)
    dot = qsnet.tree_dot(tree)
    assert "transaction 0.3.17" in dot
    for n in (0, 1, 2):
        assert "subgraph cluster_n%d" % n in dot
        assert "node %d: " % n in dot
    assert "cluster_n3" not in dot
    assert "coordinator" in dot and "root" in dot
    for label in ("wm (pid 6)", "fs (pid 9)", "txdemo (pid 12)",
                  "fs (pid 7)", "voteno (pid 8)"):
        assert label in dot, label
    assert len(re.findall(r"lhead=cluster_n[12]", dot)) == 2
    png, dotfile = qsnet.write_tree(tree, str(tmp_path / "t.png"))
    assert open(dotfile).read() == dot and dotfile.endswith("t.dot")
    check_png(png)


def test_tree_without_a_record_exits_1(tmp_path):
    r = run(tmp_path, "tree", "0.3.17", cwd=str(tmp_path))
    assert r.returncode == 1, r
    assert "qsnet: no node has a record of 0.3.17" in r.stderr
    assert "Traceback" not in r.stderr
    assert not os.listdir(tmp_path)  # nothing written


@pytest.mark.parametrize("txid", ["0.3", "x.1.2", "1.2.3.4", "1.2.x", ""])
def test_tree_with_a_bad_txid_is_a_usage_error(tmp_path, txid):
    r = run(tmp_path, "tree", txid)
    assert r.returncode == 1, r
    assert "usage: qsnet tree TXID" in r.stderr
    assert "bad transaction id" in r.stderr
    assert "Traceback" not in r.stderr


def test_live_tree_of_a_held_transaction(node, tmp_path):
    """txdemo holds a transaction open with a window (the WM a volatile
    participant): the picture shows node 0's cluster."""
    start = node.log_size()
    pid = node.run("txdemo hold")
    tx = node.wait_log(r"txdemo: tx (\d+\.\d+\.\d+) ", start=start).group(1)
    try:
        def listed():
            rows = [r for r in qsnet.parse_tx(node.exec("tx"))
                    if r["tx"] == tx]
            return bool(rows and rows[0]["parts"]), rows
        node.poll("tx %s with a participant" % tx, listed)
        # the default names, in the current directory
        r = run(node.cluster.state_dir, "tree", tx, cwd=str(tmp_path))
        assert r.returncode == 0, r
        assert r.stdout.split() == ["tree-%s.png" % tx, "tree-%s.dot" % tx]
        check_png(str(tmp_path / ("tree-%s.png" % tx)))
        dot = (tmp_path / ("tree-%s.dot" % tx)).read_text()
        assert "subgraph cluster_n0" in dot
        assert "transaction %s" % tx in dot
        assert "txdemo (pid %d)" % pid in dot
        assert re.search(r"wm \(pid \d+\)\\nvolatile", dot), dot
        # -o names the PNG, the .dot goes next to it
        out = str(tmp_path / "sub" / "live.png")
        os.mkdir(str(tmp_path / "sub"))
        r = run(node.cluster.state_dir, "tree", tx, "-o", out)
        assert r.returncode == 0, r
        # printed relative to the current directory when that is short
        assert [os.path.abspath(p) for p in r.stdout.split()] == \
            [out, str(tmp_path / "sub" / "live.dot")]
        check_png(out)
        assert open(out[:-4] + ".dot").read() == dot
    finally:
        node.kill(pid)
