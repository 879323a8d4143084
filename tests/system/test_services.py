"""init's watch over the services (issue 19, servers/init/README.md), on two
nodes booted with the product's init.conf: a killed or hung service comes
back, under its name, with what it had committed, and another node's
clients reach it by that name; a request in flight when it dies gets
exactly one answer (QS_ESRVDIED); one that keeps dying is given up on.
Killed at the worst moments: the file server between its vote and the
commit (the transaction commits, and the new one learns it from the TM,
which then lets the decision go), with a handle and a lock open (the
transaction aborts: its write is gone), the window manager with a window
open (it starts with none; the transaction commits without it), echod
during a call. Everything is waited for by its event (init's and the
servers' own lines), with generous deadlines."""

import re
import time

from qsharness import BOOT_TIMEOUT, Node, cluster_fixture
from test_dtx import crumbs, no_breadcrumbs
from test_sq import sq_rows

svc_cluster = cluster_fixture("test-nodes-svc", n=2, conf="init.conf")

# a keep-alive every second, up to 30 s for a service to answer (init.conf),
# and the time a restart takes on a busy host
HANG_FOUND = 90


def said(node, cmd, timeout=60):
    """What the shell printed for cmd, without the lines init and the
    kernel print on the console meanwhile."""
    return "".join(line for line in node.exec(cmd, timeout).splitlines(True)
                   if not line.startswith(("[init]", "[kernel]")))


def services(node):
    """`svc` as a dict: name -> (state, pid, restarts, hangs, keep-alive,
    last end)."""
    out = said(node, "svc")
    rows = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        rows[f[0]] = (f[1], int(f[2]), int(f[3]), int(f[4]), f[5], f[6])
    return rows


def serving(node, pid):
    """Does process pid own a queue with a thread offered on it (`sq`)?
    Lines the console mixed in are skipped."""
    for line in node.exec("sq").splitlines()[1:]:
        f = line.split()
        if len(f) >= 9 and f[3] == str(pid) and f[4].isdigit() and \
                int(f[4]) > 0:
            return True
    return False


def back(node, name, start):
    """Waits until init started `name` again after log offset `start`, and
    it serves again (init says it started it as soon as it runs, before
    its queue is there); returns its line."""
    m = node.wait_log(r"\[init\] %s started again \(pid (\d+), restart "
                      r"(\d+)\)\n" % re.escape(name), HANG_FOUND,
                      start=start)
    node.poll("%s serving" % name,
              lambda: (serving(node, int(m.group(1))), None), HANG_FOUND)
    return m


def echo_from(node, queue, words):
    """Runs `echo -q queue words` on node; what it printed."""
    start = node.log_size()
    pid = int(node.exec("run echo -q %s %s" % (queue, words)).split()[1])
    node.wait_gone(pid, HANG_FOUND)
    return re.search(r"echo: .*\n", node.log(start)).group(0)


def test_the_services_are_listed(svc_cluster):
    s = services(Node(svc_cluster, 0))
    for name, ka in (("fs", "fs/10000ms"), ("echod", "echo/5000ms"),
                     ("wm", "wm/10000ms"), ("disk", "disk/30000ms")):
        assert s[name][0] == "running" and s[name][4] == ka, s
    assert s["shell"][0] == "running", s
    for name in ("log", "tm", "cm"):
        assert s[name][0] == "essential" and s[name][1] > 0, s


def test_a_killed_file_server_comes_back_with_its_files(svc_cluster):
    node = Node(svc_cluster, 0)
    assert node.exec("write /svc.kept before the kill") == \
        "wrote 16 bytes to /svc.kept\n"
    old = services(node)["fs"]
    start = node.log_size()
    assert "svc: killed fs\n" in said(node, "svc kill fs")
    back(node, "fs", start)
    node.wait_log(r"fs: serving queue fs", HANG_FOUND, start=start)
    assert node.exec("cat /svc.kept") == "before the kill\n"
    new = services(node)["fs"]
    assert new[0] == "running" and new[1] != old[1], new
    assert new[2] == old[2] + 1 and new[5] == "killed", new
    # and it takes new work under its name
    assert node.exec("write /svc.after after") == \
        "wrote 6 bytes to /svc.after\n"


def test_a_hung_server_is_found_and_its_caller_gets_one_answer(svc_cluster):
    node = Node(svc_cluster, 0)
    assert echo_from(node, "echo", "warm") == "echo: warm\n"
    start = node.log_size()
    assert "svc: told to hang echod\n" in said(node, "svc hang echod")
    pid = int(node.exec("run echo in flight").split()[1])
    # the keep-alive finds it, init kills it: the request in flight gets
    # QS_ESRVDIED, once
    node.wait_log(r"\[init\] echod \(pid \d+\) did not answer its "
                  r"keep-alive in 5000 ms: hung; killing it\n", HANG_FOUND,
                  start=start)
    back(node, "echod", start)
    node.wait_gone(pid, HANG_FOUND)
    out = node.log(start)
    assert out.count("echo: server died\n") == 1, out
    assert "echo: in flight" not in out, out
    s = services(node)["echod"]
    assert s[0] == "running" and s[3] == 1 and s[5] == "hung", s
    # the name leads to the new server
    start = node.log_size()
    pid = int(node.exec("run echo again").split()[1])
    node.wait_gone(pid, HANG_FOUND)
    assert "echo: again\n" in node.log(start), node.log(start)


def test_a_hung_disk_server_is_replaced_under_a_commit(svc_cluster):
    """The file server's commit forces the node log while the disk server
    hangs: the log manager's write waits, gets QS_ESRVDIED when init kills
    the hung server, and goes to the new one (libqs's disk calls are
    idempotent): the commit completes, once."""
    node = Node(svc_cluster, 0)
    start = node.log_size()
    assert "svc: told to hang disk\n" in said(node, "svc hang disk")
    # (the new disk server's banner may come in between)
    assert "wrote 28 bytes to /svc.disk\n" in \
        said(node, "write /svc.disk written while the disk hung",
             2 * HANG_FOUND)
    back(node, "disk", start)
    assert node.exec("cat /svc.disk") == "written while the disk hung\n"
    s = services(node)["disk"]
    assert s[0] == "running" and s[3] == 1 and s[5] == "hung", s


def test_echod_killed_during_a_call_gives_one_answer(svc_cluster):
    node = Node(svc_cluster, 0)
    start = node.log_size()
    assert "svc: told to hang echod\n" in said(node, "svc hang echod")
    pid = int(node.exec("run echo cut short").split()[1])
    # in echod's hands (the hang holds one of its threads): in flight
    node.poll("the call to reach echod", lambda: (lambda q: (
        q["busy"] + q["pending"] >= 2, q))(sq_rows(node)["echo"]))
    assert "svc: killed echod\n" in said(node, "svc kill echod")
    back(node, "echod", start)
    node.wait_gone(pid, HANG_FOUND)
    out = node.log(start)
    assert out.count("echo: server died\n") == 1, out
    assert "echo: cut short" not in out, out
    assert echo_from(node, "echo", "next") == "echo: next\n"


def test_a_file_server_killed_with_a_handle_and_a_lock(svc_cluster):
    """fsclient holds /svc.held open, written and locked under its
    transaction, when the file server dies: the new one has no handle, no
    lock and no such file, and the transaction, which the file server
    declared aborts at its death, leaves nothing once its owner goes."""
    node = Node(svc_cluster, 0)
    start = node.log_size()
    holder = node.run("fsclient hold /svc.held uncommitted")
    node.wait_log(r"fsclient: wrote /svc.held under \S+, holding: success",
                  start=start)
    c = crumbs(node)
    assert c["fs.handles"] == 1 and c["fs.locks"] >= 1, c
    assert "svc: killed fs\n" in said(node, "svc kill fs")
    back(node, "fs", start)
    node.wait_log(r"fs: serving queue fs", HANG_FOUND, start=start)
    assert "no such entry" in node.exec("cat /svc.held")
    c = crumbs(node)
    assert (c["fs.handles"], c["fs.locks"], c["fs.transactions"]) == \
        (0, 0, 0), c
    node.kill(holder)
    no_breadcrumbs([node])
    assert "no such entry" in node.exec("cat /svc.held")


def test_a_window_manager_killed_with_a_window_open(svc_cluster):
    """chain's transaction has a log window open on node 0's window manager
    when it dies: the new one starts with no window, and the transaction,
    in which the window manager only leaves at its death (volatile),
    commits its file."""
    node = Node(svc_cluster, 0)
    start = node.log_size()
    node.run("chain -f fs -w wm -n 2 -wait 20000 /svc.chain")
    tx = node.wait_log(r"chain: waiting tx (\S+)\n", start=start).group(1)
    assert crumbs(node)["wm.windows"] == 1
    assert "svc: killed wm\n" in said(node, "svc kill wm")
    back(node, "wm", start)
    assert crumbs(node)["wm.windows"] == 0
    m = node.wait_log(r"chain: tx %s (\w+)" % re.escape(tx), HANG_FOUND,
                      start=start)
    out = node.log(start)
    # the scenario: the commit came after the death
    assert out.index("[init] wm started again") < m.start(), out
    assert m.group(1) == "committed", out
    assert node.exec("cat /svc.chain/%s" % tx) == \
        "tx %s op 1\ntx %s op 2\n" % (tx, tx)
    no_breadcrumbs([node])


def test_a_file_server_killed_between_its_vote_and_the_commit(svc_cluster):
    """Node 1's TM stops after the votes, before its commit point, for
    20 s (boot argument tm_stall, this start only); meanwhile the file
    server, which voted yes, is killed and started again. It finds the
    transaction in doubt and asks the TM, which commits: the participant's
    death after its vote does not abort. The TM keeps the decision for it
    (it could not acknowledge), until the new file server has resolved it
    and says it has nothing in doubt: then no entry is owed."""
    svc_cluster.kill_node(1)
    svc_cluster.restart_node(1, BOOT_TIMEOUT, once_args={
        "tm_stall": "voted", "tm_stall_ms": "20000"})
    n1 = Node(svc_cluster, 1)
    start = n1.log_size()
    n1.run("fsclient commit /svc.2pc voted-then-killed")
    n1.wait_log(r"tm: stalled voted: ", HANG_FOUND, start=start)
    assert "svc: killed fs\n" in said(n1, "svc kill fs")
    back(n1, "fs", start)
    m = n1.wait_log(r"fsclient: commit \S+: (.*)\n", HANG_FOUND, start=start)
    assert m.group(1) == "success", n1.log(start)
    n1.wait_log(r"fs: in-doubt transaction \S+ committed\n", HANG_FOUND,
                start=start)
    out = n1.log(start)
    # the scenario: the kill came before the TM went on
    assert out.index("[init] fs started again") < \
        out.index("tm: going on after voted"), out
    assert re.search(r"tm: \S+ committed: kept until fs, which did not "
                     r"acknowledge, recovers\n", out), out
    assert n1.exec("cat /svc.2pc") == "voted-then-killed"
    no_breadcrumbs([n1])  # includes the TM's owed entries: 0
    assert crumbs(n1)["tm.owed"] == 0


def test_a_killed_disk_server_is_replaced_between_writes(svc_cluster):
    """The disk server dies while nobody uses it: the log manager's next
    write finds the queue it kept gone (the kernel's QS_ENOENT) and goes to
    the new server, so the node log goes on (it took that error for the
    disk's and failed for good)."""
    node = Node(svc_cluster, 0)
    assert node.exec("write /svc.d1 before") == "wrote 7 bytes to /svc.d1\n"
    start = node.log_size()
    assert "svc: killed disk\n" in said(node, "svc kill disk")
    back(node, "disk", start)
    node.wait_log(r"disk: serving queue disk", HANG_FOUND, start=start)
    assert "wrote 6 bytes to /svc.d2\n" in said(node, "write /svc.d2 after")
    assert node.exec("cat /svc.d2") == "after\n"


def redirected(node):
    return int(re.search(r"redirected (\d+)", node.exec("net")).group(1))


def test_another_nodes_client_reaches_the_new_server_by_name(svc_cluster):
    n0, n1 = Node(svc_cluster, 0), Node(svc_cluster, 1)
    assert echo_from(n1, "echo@0", "before") == "echo: before\n"
    r0 = redirected(n0)
    start = n0.log_size()
    assert "svc: killed echod\n" in said(n0, "svc kill echod")
    back(n0, "echod", start)
    # node 1's proxy still names the old queue: node 0's CM takes the
    # request to the queue the new echod made, once
    assert echo_from(n1, "echo@0", "after") == "echo: after\n"
    assert echo_from(n1, "echo@0", "again") == "echo: again\n"
    assert redirected(n0) >= r0 + 1


def test_a_service_that_keeps_dying_is_given_up(svc_cluster):
    """Last in the module: echod stays down."""
    node = Node(svc_cluster, 0)
    kills = 0
    while services(node)["echod"][0] != "given-up" and kills < 8:
        start = node.log_size()
        assert "svc: killed echod\n" in said(node, "svc kill echod")
        kills += 1
        m = node.wait_log(r"\[init\] echod (started again|died \d+ times "
                          r"in 30 s \(last: killed\): given up)", HANG_FOUND,
                          start=start)
        if "given up" in m.group(0):
            break
    s = services(node)["echod"]
    assert s[0] == "given-up" and s[1] == 0, s
    assert "svc: echod is not running now\n" in said(node, "svc kill echod")
    assert "svc: no service nosuch\n" in said(node, "svc kill nosuch")


def test_an_essential_servers_death_stops_the_node(svc_cluster):
    """The TM holds the node's recovery state: when it dies, init stops the
    node, and the node started again recovers from its log."""
    n1 = Node(svc_cluster, 1)
    assert said(n1, "write /svc.node1 kept across the stop") == \
        "wrote 21 bytes to /svc.node1\n"
    start = n1.log_size()
    assert "svc: killed tm\n" in said(n1, "svc kill tm")
    n1.wait_log(r"\[init\] tm died \(killed\): it holds the node's "
                r"recovery state, so the node stops", HANG_FOUND, start=start)
    deadline = time.monotonic() + HANG_FOUND
    while svc_cluster.is_running(1):  # QEMU exits at the guest's power-off
        assert time.monotonic() < deadline, "node 1 did not stop"
        time.sleep(0.2)  # polling the host process, not a synchronisation
    svc_cluster.restart_node(1, HANG_FOUND)
    n1 = Node(svc_cluster, 1)
    assert n1.exec("cat /svc.node1") == "kept across the stop\n"
    assert services(n1)["tm"][0] == "essential"
