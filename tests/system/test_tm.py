"""The transaction manager seen from the shell: one- and two-phase commit,
votes of each kind, the voting deadline, `tx` and `tx abort`, and the end of
a process's transactions when it exits, is killed or faults. The in-guest
tmtest suite covers the libqs API and bad requests."""

import re

import pytest

from qsharness import Node, cluster_fixture, qsnet
from test_guest import reap, run_suite

VOTE_MS = 1500
tm_cluster = cluster_fixture("test-nodes-tm", conf="test.conf",
                             args={"tm_vote_ms": str(VOTE_MS)})


@pytest.fixture(scope="module")
def node(tm_cluster):
    return Node(tm_cluster, 0)


def tx_rows(node):
    """`tx` as {id: row}, the rows qsnet.parse_tx makes (owner, coord,
    state, sup, subs, parts). Lines a background program printed meanwhile
    are not rows and are skipped."""
    out = node.exec("tx")
    assert re.search(r"^TX\s+OWNER COORD STATE\s+SUP\s+SUBS\s+PARTICIPANTS$",
                     out, re.M), out
    return {r["tx"]: r for r in qsnet.parse_tx(out)}


def tm_stats(node):
    """`tx stats` as {name: value}: every `name N` pair of its `tm:` lines
    (a background program's lines are not among them)."""
    out = node.exec("tx stats")
    assert re.search(r"^tm: records ", out, re.M), out
    assert re.search(r"^tm: bad-requests .* clients \d+$", out, re.M), out
    lines = "\n".join(l for l in out.splitlines() if l.startswith("tm: "))
    return {k: int(v) for k, v in re.findall(r"([a-z-]+) (\d+)", lines)}


def participant(node, mode, name):
    start = node.log_size()
    pid = node.run("voteno %s %s" % (mode, name))
    node.wait_log(r"%s: serving" % name, start=start)
    return pid


def txdemo(node, args):
    """Start txdemo; returns (pid, transaction id, log offset)."""
    start = node.log_size()
    pid = node.run("txdemo " + args)
    m = node.wait_log(r"txdemo: tx (\d+\.\d+\.\d+) ", start=start)
    return pid, m.group(1), start


def stop(node, *pids):
    for pid in pids:
        node.kill(pid)
        reap(node, pid)


def test_tmtest_in_guest(node):
    run_suite(node, "tmtest", 50)


def test_two_phase_commit_yes_and_read_only(node):
    s0 = tm_stats(node)
    yes, ro = participant(node, "yes", "vy1"), participant(node, "readonly", "vr1")
    pid, tx, start = txdemo(node, "commit vy1 vr1")
    node.wait_log(r"txdemo: tx %s committed\n" % tx, start=start)
    log = node.log(start)
    assert "vy1: tx %s prepare: vote yes" % tx in log
    assert "vr1: tx %s prepare: vote read-only" % tx in log
    node.wait_log(r"vy1: tx %s committed\n" % tx, start=start)
    s1 = tm_stats(node)
    # two prepares and one commit: the read-only voter hears nothing more;
    # the window manager, if txdemo opened a window there, hears the end
    wm = 1 if re.search(r"txdemo: window \d+ open", log) else 0
    assert s1["notices"] - s0["notices"] == 3 + wm, (s0, s1)
    assert s1["committed"] == s0["committed"] + 1
    assert tx not in tx_rows(node)
    reap(node, pid)
    stop(node, yes, ro)


def test_a_no_vote_aborts_everywhere(node):
    yes, no = participant(node, "yes", "vy2"), participant(node, "no", "vn2")
    pid, tx, start = txdemo(node, "commit vy2 vn2")
    node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
    node.wait_log(r"vy2: tx %s aborted\n" % tx, start=start)
    node.wait_log(r"vn2: tx %s aborted\n" % tx, start=start)
    assert "vy2: tx %s committed" % tx not in node.log(start)
    assert tx not in tx_rows(node)
    reap(node, pid)
    stop(node, yes, no)


def test_a_silent_participant_aborts_after_the_deadline(node):
    s0 = tm_stats(node)
    assert s0["vote-ms"] == VOTE_MS  # the boot argument reached the TM
    silent, yes = participant(node, "silent", "vs3"), participant(node, "yes", "vy3")
    pid, tx, start = txdemo(node, "commit vs3 vy3")
    node.wait_log(r"tm: %s: pid %d did not vote within %d ms: abort\n"
                  % (tx, silent, VOTE_MS), start=start)
    node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
    node.wait_log(r"vy3: tx %s aborted\n" % tx, start=start)
    assert tm_stats(node)["vote-timeouts"] == s0["vote-timeouts"] + 1
    reap(node, pid)
    stop(node, silent, yes)
    # the notices the silent one never answered are reaped once it is gone
    node.poll("unanswered notices reaped",
              lambda: (tm_stats(node)["unanswered"] == 0, tm_stats(node)))


def test_a_participant_that_never_answers_is_held_to_its_limit(node):
    """A participant that never answers a notice: each transaction it is in
    leaves two unanswered (the prepare, then the abort). With
    TM_UNANSWERED_MAX (8) of them it may not join again, and the notices of
    the transactions it is still in wait in the TM, not in the kernel;
    others' two-phase commits go on. Once it is killed, all of it is
    collected. (tmtest covers the vote it is not asked for.)"""
    limit = 8
    s0 = tm_stats(node)
    assert s0["unanswered"] == 0 and s0["held"] == 0, s0
    silent, yes = participant(node, "silent", "vs8"), participant(node, "yes", "vy8")
    holders = []
    for _ in range(2):  # in two transactions before it falls silent
        pid, tx, start = txdemo(node, "hold vs8")
        node.wait_log(r"txdemo: holding tx %s\n" % tx, start=start)
        holders.append((pid, tx))
    for i in range(limit // 2):
        pid, tx, start = txdemo(node, "commit vs8")
        node.wait_log(r"txdemo: vs8 joined: success\n", start=start)
        node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
        reap(node, pid)
        assert tm_stats(node)["unanswered"] == 2 * (i + 1)
    pid, tx, start = txdemo(node, "commit vs8")
    node.wait_log(r"txdemo: vs8 joined: over a limit of the process\n",
                  start=start)
    node.wait_log(r"txdemo: tx %s committed\n" % tx, start=start)
    reap(node, pid)
    s1 = tm_stats(node)
    assert s1["refused"] == s0["refused"] + 1, (s0, s1)
    # its earlier transactions end (a killed owner, `tx abort`): their abort
    # notices wait in the TM
    pid, tx = holders[0]
    stop(node, pid)
    pid, tx = holders[1]
    out = node.exec("tx abort %s" % tx)
    assert "tx %s aborted" % tx in out.splitlines(), out
    stop(node, pid)
    s2 = node.poll("two notices held", lambda: (
        (lambda s: (s["held"] == 2, s))(tm_stats(node))))
    assert s2["unanswered"] == limit, s2
    # another client's two-phase commit is not hurt
    pid, tx, start = txdemo(node, "commit vy8")
    node.wait_log(r"txdemo: tx %s committed\n" % tx, start=start)
    node.wait_log(r"vy8: tx %s committed\n" % tx, start=start)
    reap(node, pid)
    s3 = tm_stats(node)
    assert s3["two-phase"] == s2["two-phase"] + 1, (s2, s3)
    stop(node, silent, yes)
    # (an earlier test's process may have been counted at s0 still)
    node.poll("its notices reaped", lambda: (
        (lambda s: (s["unanswered"] == 0 and s["held"] == 0 and
                    s["clients"] <= s0["clients"], s))(tm_stats(node))))


def test_a_participant_may_abort(node):
    ab, yes = participant(node, "abort", "va7"), participant(node, "yes", "vy7")
    pid, tx, start = txdemo(node, "commit vy7 va7")
    node.wait_log(r"va7: abort tx %s: success\n" % tx, start=start)
    # the owner's commit learns that its transaction was aborted
    node.wait_log(r"txdemo: tx %s: transaction aborted\n" % tx, start=start)
    node.wait_log(r"vy7: tx %s aborted\n" % tx, start=start)
    reap(node, pid)
    stop(node, ab, yes)


def test_tx_lists_and_aborts_from_the_shell(node):
    yes = participant(node, "yes", "vy4")
    pid, tx, start = txdemo(node, "hold vy4")
    node.wait_log(r"txdemo: holding tx %s\n" % tx, start=start)
    row = tx_rows(node)[tx]
    assert row["owner"] == pid and row["state"] == "active", row
    assert row["coord"] == 0 and row["sup"] is None and row["subs"] == [], row
    assert dict(pid=yes, cls="recoverable", vote=None) in row["parts"], row
    # (participants print to the same console, so look for our line)
    assert "tx %s aborted" % tx in node.exec("tx abort %s" % tx).splitlines()
    node.wait_log(r"vy4: tx %s aborted\n" % tx, start=start)
    assert tx not in tx_rows(node)
    stop(node, pid, yes)


def test_a_killed_owner_aborts(node):
    yes = participant(node, "yes", "vy5")
    pid, tx, start = txdemo(node, "hold vy5")
    node.wait_log(r"txdemo: holding tx %s\n" % tx, start=start)
    node.kill(pid)
    node.wait_log(r"vy5: tx %s aborted\n" % tx, start=start)
    reap(node, pid)
    stop(node, yes)


@pytest.mark.parametrize("how,outcome", [("exit", "committed"),
                                         ("crash", "aborted")])
def test_the_default_transaction_ends_with_the_process(node, how, outcome):
    yes = participant(node, "yes", "vy6")
    pid, tx, start = txdemo(node, "%s vy6" % how)
    node.wait_log(r"vy6: tx %s %s\n" % (tx, outcome), start=start)
    reap(node, pid)
    stop(node, yes)


def test_bad_tx_commands(node):
    assert "bad transaction id" in node.exec("tx abort nonsense")
    assert "bad transaction id" in node.exec("tx abort 1.2")
    assert node.exec("tx abort 0.0.999999").strip() == \
        "tx: abort 0.0.999999: no such entry"
    assert node.exec("tx bogus").strip() == "usage: tx [stats|abort txid|outcome txid]"
    node.alive()


def test_nothing_left_behind(node):
    s = tm_stats(node)
    assert s["records"] == 0 and s["participants"] == 0, s
    assert tx_rows(node) == {}
