"""Authority on a node (docs/security.md): the permission matrix. Every
privileged syscall and server operation, from a program without rights,
gets QS_EPERM and is counted; from one that holds the right, it succeeds.
Also what the user's shell (init.conf) may and may not do."""

import re

from qsharness import Node, cluster_fixture
from test_guest import reap, wait_summary, failures

CHECKS = 33


def matrix(node, rights, mode):
    peer = node.run("spin")  # neither authtest's descendant nor a server
    start = node.log_size()
    pid = node.run("%sauthtest %s %d" % (rights, mode, peer))
    passed, failed, log = wait_summary(node, "authtest", start)
    assert (passed, failed) == (CHECKS, 0), failures(log) or log
    reap(node, pid)
    if mode == "none":
        node.kill(peer)
    reap(node, peer)
    return log


def test_without_rights_every_privileged_call_is_refused(node):
    mem = node.exec("mem")
    before = int(re.search(r"refused: (\d+) calls", mem).group(1))
    matrix(node, "", "none")
    after = int(re.search(r"refused: (\d+) calls", node.exec("mem")).group(1))
    assert after - before >= 14, (before, after)  # the node counts them too


def test_with_rights_the_same_calls_succeed(node):
    matrix(node, "-r prio,kill,raw-net,admin ", "rights")


def test_the_shell_passes_on_only_what_it_holds(node):
    out = node.exec("limits")
    assert out.startswith(
        "rights: halt prio kill kill-any raw-net admin console svc\n"), out
    pid = node.run("-r admin spin")
    assert "rights: admin\n" in node.exec("limits %d" % pid)
    node.kill(pid)
    reap(node, pid)
    assert node.exec("run -r nosuch spin").startswith("run: usage"), \
        "an unknown right"


# ---- the user's shell, as init.conf starts it -------------------------------

user_cluster = cluster_fixture("test-nodes-user", conf="init.conf")


def test_the_users_shell_kills_programs_but_not_servers(user_cluster):
    user = Node(user_cluster, 0)
    assert user.exec("limits").startswith("rights: halt prio kill console svc\n")
    tm = [r["pid"] for r in user.ps() if r["name"] == "tm"]
    assert len(tm) == 1
    assert user.exec("kill %d" % tm[0]) == "kill: %d: not permitted\n" % tm[0]
    assert user.exec("kill 1") == "kill: 1: not permitted\n"
    pid = user.run("spin")
    user.kill(pid)
    reap(user, pid)
    out = user.exec("run -r raw-net ethtest stats")
    assert out == "run: cannot start ethtest: not permitted\n", out
    assert [r["pid"] for r in user.ps() if r["name"] == "tm"] == tm


# ---- exhaustion ---------------------------------------------------------------

LIMITS = ("replies", "queues", "kbytes", "requests", "procs", "threads",
          "pages")


def kernel_heap(node):
    return int(re.search(r"kernel heap: (\d+) bytes", node.exec("mem")).group(1))


def exhaust(node, path):
    """`run exhaust PATH`: it holds PATH's lock, takes every limit, faults.
    Returns {limit: count reached}."""
    start = node.log_size()
    pid = node.run("exhaust %s" % path)
    node.wait_log(r"\[kernel\] pid %d \(exhaust\): page fault" % pid,
                  start=start)
    assert reap(node, pid) == "pid %d died of a fault" % pid
    log = node.log(start)
    assert "exhaust: all limits reached" in log, log
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"exhaust: (\w+) at (\d+): over a limit of the process", log)}


def exhaust_and_check(node, path):
    """exhaust on PATH; then the node serves others, the TM has handled the
    deaths, and the fs has released exhaust's lock. Returns the limits."""
    from test_tm import tm_stats
    deaths0 = tm_stats(node)["deaths"]
    reached = exhaust(node, path)
    assert set(reached) == set(LIMITS), reached
    node.alive()  # the node is up, the shell served
    start = node.log_size()
    echo = node.run("echo still served")  # a client of echod
    node.wait_log(r"echo: still served\n", start=start)
    reap(node, echo)
    # the TM handled every death (exhaust, its children, echo)
    node.poll("the TM's death count", lambda: (
        tm_stats(node)["deaths"] >= deaths0 + reached["procs"] + 2,
        tm_stats(node)))
    # exhaust's transaction aborted: its file is gone and its lock free
    assert node.exec("write %s taken" % path) == "wrote 6 bytes to %s\n" % path
    assert node.exec("cat %s" % path) == "taken\n"
    node.exec("rm %s" % path)
    return reached


def test_a_program_that_exhausts_every_limit_then_faults(node):
    exhaust_and_check(node, "/exhaust")  # warm-up: servers' heaps grow
    free0, heap0, pids0 = node.mem_free(), kernel_heap(node), node.ps_pids()
    exhaust_and_check(node, "/exhaust")
    node.wait_pids(pids0)
    node.wait_free(free0)  # every page of exhaust and its children back
    node.poll("the kernel heap back to its level",
              lambda: (kernel_heap(node) <= heap0, kernel_heap(node)))


def limits(node, pid):
    out = node.exec("limits %d" % pid)
    job = int(re.search(r"^job +(\d+)", out, re.M).group(1))
    return job, {m.group(1): (int(m.group(2)), int(m.group(3))) for m in
                 re.finditer(r"^(\w+) +(\d+) of (\d+)$", out, re.M)}


def test_a_program_and_its_children_share_one_set_of_limits(node):
    """`exhaust job 4`: four hogs take every page they can. Together they
    get one job's pages, not four; when exhaust ends, the hogs (orphans now)
    stay in its job, and the node's memory comes back when they go."""
    free0, pids0 = node.mem_free(), node.ps_pids()
    start = node.log_size()
    pid = node.run("exhaust job 4")
    m = node.wait_log(r"exhaust: job (\d+): (\d+) processes, (\d+) pages of "
                      r"at most (\d+); the hogs took (\d+) and stopped at "
                      r"(.*)\n", start=start)
    job, procs, pages, most, hogs = (int(m.group(i)) for i in range(1, 6))
    assert m.group(6) == "over a limit of the process", node.log(start)
    assert reap(node, pid) == "pid %d exited with status 0" % pid
    assert (job, procs) == (pid, 5)
    assert most == 16384 and most - 64 < pages <= most, (pages, most)
    hog_pids = [int(h) for h in re.findall(r"exhaust: hog (\d+)\n",
                                           node.log(start))]
    assert len(hog_pids) == 4
    # the node lost at most one job's pages
    assert free0 - node.mem_free() <= most + 64
    for h in hog_pids:  # orphans now, still in the job
        assert [r["parent"] for r in node.ps() if r["pid"] == h] == [1]
        job_h, used = limits(node, h)
        assert job_h == pid and used["procs"] == (4, 32), (job_h, used)
        assert used["pages"][0] <= most
    for h in hog_pids:
        node.kill(h)
    node.wait_pids(pids0)
    node.wait_free(free0)


def test_a_dead_drivers_device_stops_mastering_the_bus(node):
    """Last in the module: the node has no CM after it."""
    cm = [r["pid"] for r in node.ps() if r["name"] == "cm"]
    assert len(cm) == 1
    start = node.log_size()
    node.kill(cm[0])
    node.wait_log(r"\[kernel\] pid %d \(cm\): device 8086:100e no longer "
                  r"masters the bus\n" % cm[0], start=start)
    node.alive()
