"""The seeded syscall fuzzer (tests/guest/fuzz.c) against one booted node:
no kernel panic, no hung or faulting child, every call made, free pages and
kernel heap back to their level, and the shell still answers. Its children
also send the node's servers (counterd too, started here) anything, in their
protocols or not: afterwards every server runs with the same pid and threads,
holds nothing of the fuzz's clients, does a well-behaved client's work (a
transaction, a file, a window, an echo, an increment) and has counted the
requests it refused.

QS_FUZZ_SEEDS (comma-separated) and QS_FUZZ_CALLS (calls per seed) change
the run: `make stress` makes 1,000,000 calls. A failing seed reproduces with
`run fuzz SEED CALLS 1` in a node's shell (`... 1 t` traces every call).
"""

import os
import re

import pytest

from qsharness import PROG_TIMEOUT
from test_counter import start_counterd

SEEDS = [int(s) for s in
         os.environ.get("QS_FUZZ_SEEDS", "1,2,3,4,5,6").split(",") if s.strip()]
CALLS = int(os.environ.get("QS_FUZZ_CALLS", 25000))
CHILDREN = 2  # at a time
CHECKS = 12   # fuzz's checks: hung, fault, every call, servers (7), pages, heap
SERVERS = ("disk", "tm", "cm", "fs", "echod", "wm", "counterd")

# A child runs a slice of the calls in seconds; generous for a busy host.
TIMEOUT = PROG_TIMEOUT + CALLS / 200.0


@pytest.fixture(scope="module")
def servers(node):
    """The servers' pids, counterd started among them: the fuzz must not
    take any down."""
    start_counterd(node)
    pids = {r["name"]: r["pid"] for r in node.ps() if r["name"] in SERVERS}
    assert sorted(pids) == sorted(SERVERS), pids
    return pids


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_seed(node, servers, seed):
    start = node.log_size()
    pid = node.run("fuzz %d %d %d" % (seed, CALLS, CHILDREN))
    node.wait_log(r"fuzz: \d+ passed, \d+ failed\n|PANIC[^\n]*\n",
                  TIMEOUT, start=start)
    log = node.log(start)
    if "PANIC" in log:
        # a panicked node still runs: killed, the next test gets a new one
        node.cluster.kill_node(node.id)
        pytest.fail("kernel panic:\n" + log[-3000:])
    # a child's random console writes may end without a newline: the
    # summary lines are found where they are, not at a line's start
    m = re.search(r"fuzz: (\d+) passed, (\d+) failed$", log, re.M)
    fails = "\n".join(l for l in log.split("\n")
                      if l.startswith(("FAIL", "fuzz: free", "fuzz: child"))
                      and ("FAIL" in l or "hung" in l or "fault" in l
                           or "free pages" in l))
    assert (int(m.group(1)), int(m.group(2))) == (CHECKS, 0), fails or log[-3000:]
    calls = re.search(r"fuzz: (\d+) calls by (\d+) children .* (\d+) calls/s$",
                      log, re.M)
    assert calls and int(calls.group(1)) >= CALLS, log[-3000:]
    print("seed %d: %s calls, %s children, %s calls/s"
          % (seed, calls.group(1), calls.group(2), calls.group(3)))
    out = node.exec("wait %d" % pid)
    assert out.strip() == "pid %d exited with status 0" % pid, out
    node.alive()
    rows = node.ps()
    assert not [r for r in rows if r["name"] == "fuzz"]
    assert {r["name"]: r["pid"] for r in rows if r["name"] in SERVERS} == servers
    refused = re.search(r"fuzz: refused: tm (\d+) fs (\d+) wm (\d+) disk (\d+)$",
                        log, re.M)
    assert refused and all(int(n) > 0 for n in refused.groups()), log[-3000:]
    # the shell's own clients of the servers are served as before
    assert re.search(r"^tm: records 0 ", node.exec("tx stats"), re.M)
    assert re.search(r"^fs: handles 0 transactions 0 locks 0 ", node.exec("df"),
                     re.M)
    assert re.search(r"^wm: windows 0 ", node.exec("win stats"), re.M)
    assert "PANIC" not in node.log(start)
