"""counterd and count (servers/counterd, apps/count.c) on one node: pipelined
increments are each executed exactly once (value equals acknowledgements,
no id seen twice), concurrent clients do not lose or repeat any, duplicate
ids are counted, reset zeroes the state, bad arguments give usage, and
malformed requests are refused without harm to the server."""

import re

import pytest

from qsharness import PROG_TIMEOUT
from test_guest import reap

SUMMARY = re.compile(r"count: sent (\d+) acked (\d+) errors (\d+) "
                     r"value (\d+|\?)\n")
STATE = re.compile(r"counterd: value (\d+) ids (\d+) duplicates (\d+)\n")


def start_counterd(node):
    """`run counterd`, once it serves; returns its pid."""
    start = node.log_size()
    pid = node.run("counterd")
    node.wait_log(r"counterd: serving queue counter \(qid \d+\)\n",
                  start=start)
    return pid


@pytest.fixture(scope="module")
def counterd(node):
    pid = start_counterd(node)
    yield pid
    node.kill(pid)


def prog(node, args, regex):
    """`run ARGS`, wait for its line matching REGEX, reap it; returns the
    match, the shell's verdict and the program's output."""
    start = node.log_size()
    pid = node.run(args)
    m = node.wait_log(regex, PROG_TIMEOUT, start=start)
    verdict = reap(node, pid)
    return m, verdict, node.log(start)


def status(verdict):
    m = re.search(r"exited with status (\d+)$", verdict)
    assert m, verdict
    return int(m.group(1))


def count(node, args):
    """Run count ARGS; returns (sent, acked, errors, value, status)."""
    m, verdict, out = prog(node, "count " + args, SUMMARY)
    value = None if m.group(4) == "?" else int(m.group(4))
    errs = [l for l in out.split("\n") if l.startswith("count: error")]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), value,
            status(verdict), errs)


def state(node, expect_status=0):
    m, verdict, _ = prog(node, "counterd check", STATE)
    assert status(verdict) == expect_status, verdict
    return tuple(map(int, m.groups()))


def reset(node):
    _, verdict, _ = prog(node, "-r admin counterd reset", r"counterd: reset\n")
    assert status(verdict) == 0, verdict
    assert state(node) == (0, 0, 0)


def test_pipelined_increments_once_each(node, counterd):
    reset(node)
    sent, acked, errors, value, st, errs = count(node, "2000 32")
    assert (sent, acked, errors, value) == (2000, 2000, 0, 2000), errs
    assert st == 0 and errs == []
    assert state(node) == (2000, 2000, 0)


def test_full_window_and_concurrent_clients(node, counterd):
    reset(node)
    start = node.log_size()
    # 5000 ids: the server's id set (4096 slots at first) grows twice
    pids = [node.run("count 3000 256"), node.run("count 2000 7")]
    both = node.wait_log(SUMMARY.pattern + r"(?:[^\n]*\n)*?" +
                         SUMMARY.pattern, PROG_TIMEOUT, start=start)
    for pid in pids:
        assert status(reap(node, pid)) == 0
    g = both.groups()
    got = sorted(tuple(map(int, g[i:i + 3])) for i in (0, 4))
    assert got == [(2000, 2000, 0), (3000, 3000, 0)], both.group(0)
    assert state(node) == (5000, 5000, 0)


def test_hundred_thousand_ids(node, counterd):
    reset(node)
    sent, acked, errors, value, st, errs = count(node, "100000 64")
    assert (sent, acked, errors, value, st) == (100000, 100000, 0, 100000, 0), \
        errs
    assert state(node) == (100000, 100000, 0)
    reset(node)


def test_duplicates_are_counted(node, counterd):
    reset(node)
    m, verdict, _ = prog(node, "count -dup",
                         r"count: duplicates sent 2 counted (\d+), "
                         r"errors (\d+)\n")
    assert m.groups() == ("2", "0") and status(verdict) == 0
    assert state(node, expect_status=1) == (4, 2, 2)
    reset(node)


def test_reset_zeroes(node, counterd):
    count(node, "10")
    assert state(node)[0] >= 10
    reset(node)


@pytest.mark.parametrize("args", ["", "x", "-1", "10 0", "10 257", "1 2 3",
                                  "-z 5", "-bad 5", "-bad -dup", "16777216"])
def test_bad_arguments_give_usage(node, args):
    _, verdict, _ = prog(node, ("count " + args).strip(),
                         r"usage: count [^\n]*\n")
    assert status(verdict) == 2


def test_malformed_requests_refused(node, counterd):
    reset(node)
    m, verdict, out = prog(node, "count -bad",
                           r"count: bad requests refused (\d+) of (\d+), "
                           r"then get: ([^\n]*)\n")
    assert m.group(1) == m.group(2) and m.group(3) == "success", out
    assert status(verdict) == 0
    assert counterd in node.ps_pids()
    assert state(node) == (0, 0, 0)
    sent, acked, errors, value, st, _ = count(node, "5 2")
    assert (sent, acked, errors, value, st) == (5, 5, 0, 5, 0)


def test_full_id_set_refuses_clearly(node, counterd):
    """COUNTER_IDS_MAX (qs/counter.h) ids fill the set: the next new ids
    are refused with QS_ENOSPC, not executed, and the server says so."""
    reset(node)
    start = node.log_size()
    sent, acked, errors, value, st, errs = count(node, "1000003 128")
    assert (sent, acked, errors, value, st) == \
        (1000003, 1000000, 3, 1000000, 1), errs
    assert errs == ["count: error -20 (no space left) x3"], errs
    node.wait_log(r"counterd: id set full at 1000000 ids; refusing new "
                  r"ids\n", start=start)
    assert state(node) == (1000000, 1000000, 0)
    reset(node)
    assert count(node, "5")[:5] == (5, 5, 0, 5, 0)
