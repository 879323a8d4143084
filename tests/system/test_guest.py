"""System tests against one booted Quicksilver node (shared by this module).

Program output of `run` appears asynchronously on the console, so it is read
from the console log starting at an offset taken before the command.
"""

import re

import pytest

from qsharness import PROG_TIMEOUT

FAULTS = {
    "pf": "page fault",
    "gp": "general protection fault",
    "ud": "invalid opcode",
    "de": "divide error",
}


def reap(node, pid):
    """`wait PID`, so a finished program leaves no zombie behind."""
    out = node.exec("wait %d" % pid)
    assert ("pid %d " % pid) in out, out
    return out.strip()


def wait_summary(node, prog, start):
    """Wait for PROG's `PROG: N passed, M failed` line; return (N, M, log)."""
    m = node.wait_log(r"%s: (\d+) passed, (\d+) failed\n" % prog,
                      PROG_TIMEOUT, start=start)
    return int(m.group(1)), int(m.group(2)), node.log(start)


def failures(text):
    return "\n".join(l for l in text.split("\n") if "FAIL" in l)


def run_suite(node, prog, checks, rights=None):
    """Run an in-guest test program (passing it RIGHTS, "kill,prio", of the
    shell's), insist that it ran exactly CHECKS checks and none of them
    failed, reap it."""
    start = node.log_size()
    pid = node.run(("-r %s " % rights if rights else "") + prog)
    passed, failed, log = wait_summary(node, prog, start)
    assert (passed, failed) == (checks, 0), failures(log) or log
    reap(node, pid)


# ---- boot and basic shell ---------------------------------------------------

def test_boots_to_prompt(node):
    log = node.log()
    assert re.search(r"^\[kernel\] ", log, re.M), "no [kernel] lines:\n" + log
    assert re.search(r"^qs0> ", log, re.M), "no prompt:\n" + log


def test_echo_collapses_spaces(node):
    assert node.exec("echo a b  c") == "a b c\n"


def test_help_lists_every_command(node):
    out = node.exec("help")
    for cmd in ("echo", "ps", "run", "kill", "wait", "mem", "uptime",
                "halt", "help"):
        assert re.search(r"^%s - \S" % cmd, out, re.M), \
            "help lacks %r:\n%s" % (cmd, out)


def test_mem_and_uptime_format(node):
    assert node.mem_free() > 0
    assert re.fullmatch(r"up \d+\.\d{3} s\n", node.exec("uptime"))


def test_ps_lists_init_and_shell(node):
    rows = node.ps()
    init = [r for r in rows if r["pid"] == 1]
    assert init and init[0]["name"] == "init", rows
    assert any(r["name"] == "shell" for r in rows), rows


# ---- programs -----------------------------------------------------------

def test_run_hello_prints_pid_and_args(node):
    start = node.log_size()
    pid = node.run("hello x y")
    node.wait_log(r"hello from pid %d\n" % pid, start=start)
    mx = node.wait_log(r"hello: argv\[(\d+)\] = x\n", start=start)
    my = node.wait_log(r"hello: argv\[(\d+)\] = y\n", start=start)
    assert int(my.group(1)) == int(mx.group(1)) + 1
    assert reap(node, pid) == "pid %d exited with status 0" % pid


def test_run_unknown_program(node):
    assert node.exec("run nosuch") == "run: no such program: nosuch\n"


def test_spin_kill_frees_pages_and_process(node):
    node.kill(node.run("spin"))  # warm-up cycle: lazily allocated kernel state
    free0, pids0 = node.mem_free(), node.ps_pids()

    pid = node.run("spin")
    row = [r for r in node.ps() if r["pid"] == pid]
    assert row and row[0]["name"] == "spin" and row[0]["state"] == "running", row
    node.kill(pid)
    assert pid not in node.ps_pids()
    node.wait_free(free0)
    assert node.ps_pids() == pids0


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_crash_kills_only_that_process(node, kind):
    pids0 = node.ps_pids()
    start = node.log_size()
    pid = node.run("crash " + kind)
    assert pid not in pids0
    node.wait_log(r"\[kernel\] pid %d \(crash\): %s at eip 0x[0-9a-fA-F]{8}"
                  r"[^\n]*\n" % (pid, re.escape(FAULTS[kind])), start=start)
    node.alive()
    assert reap(node, pid) == "pid %d died of a fault" % pid
    node.wait_pids(pids0)
    node.alive()


def test_crash_bad_argument(node):
    start = node.log_size()
    pid = node.run("crash foo")
    node.wait_log(r"crash: usage: crash pf\|gp\|ud\|de\n", start=start)
    reap(node, pid)
    node.alive()


def test_50_spawn_kill_cycles_leak_nothing(node):
    node.kill(node.run("spin"))  # warm-up
    free0, pids0 = node.mem_free(), node.ps_pids()
    for _ in range(50):
        pid = node.run("spin")
        assert node.exec("kill %d" % pid) == "killed %d\n" % pid
    node.wait_pids(pids0)
    node.wait_free(free0)


def test_badsys_survives_bad_syscalls(node):
    run_suite(node, "badsys", 81)
    node.alive()
    def no_badsys():
        rows = [r for r in node.ps() if r["name"] == "badsys"]
        return not rows, rows
    node.poll("badsys to leave ps", no_badsys)


def test_preemption_two_spinners_both_progress(node):
    a, b = node.run("spin"), node.run("spin")
    try:
        def ticks():
            t = {r["pid"]: r["ticks"] for r in node.ps()}
            assert a in t and b in t, t
            return t[a], t[b]

        a0, b0 = ticks()

        def both_advanced():
            ta, tb = ticks()
            return ta > a0 and tb > b0, (ta, tb)

        node.poll("both spinners' TICKS to increase from %d, %d" % (a0, b0),
                  both_advanced)
    finally:
        for pid in (a, b):
            node.kill(pid)


def test_threads_mutex_condvar(node):
    run_suite(node, "threads", 5)
    node.alive()


def test_ktest_in_guest_kernel_tests(node):
    run_suite(node, "ktest", 30, rights="kill")
    node.alive()


def test_lwiptest_two_netifs_back_to_back(node):
    # lwIP built for the guest: ARP, ping and UDP across two interfaces
    # of one stack inside the program (no NIC involved).
    run_suite(node, "lwiptest", 6)
    node.alive()


def test_wait_reports_exit_status_and_kill(node):
    start = node.log_size()
    pid = node.run("hello")
    node.wait_log(r"hello from pid %d\n" % pid, start=start)  # output done
    assert node.exec("wait %d" % pid) == "pid %d exited with status 0\n" % pid
    pid = node.run("spin")
    node.kill(pid)
    assert node.exec("wait %d" % pid) == "pid %d was killed\n" % pid


# ---- bad shell input ------------------------------------------------------

def test_unknown_command(node):
    assert node.exec("frob") == "frob: unknown command (try help)\n"


def test_kill_bad_pid(node):
    assert node.exec("kill abc") == "kill: bad pid: abc\n"


def test_kill_no_such_process(node):
    assert node.exec("kill 9999") == "kill: no such process: 9999\n"


def test_overlong_line_is_cut_and_shell_survives(node):
    with node.session() as s:
        s.send("echo " + "x" * 300 + "\r")
        s.expect(r"qs0> $")
    node.alive()
    assert node.exec("echo a b  c") == "a b c\n"


def test_backspace_editing(node):
    with node.session() as s:
        s.send("echo abX\x7fc\r")
        s.expect(r"^abc\n")
    node.alive()


def test_ctrl_c_interrupts_wait(node):
    pid = node.run("spin")
    with node.session() as s:
        s.send("wait %d\r" % pid)
        s.expect(r"wait %d\n" % pid)  # the shell took the line
        s.send("\x03")
        s.expect(r"wait: interrupted; pid %d still running\n" % pid)
    node.alive()
    assert pid in node.ps_pids()
    node.kill(pid)
    assert node.exec("wait %d" % pid) == "pid %d was killed\n" % pid


def test_wait_on_a_stranger(node):
    assert node.exec("wait 1") == "wait: no such child: 1\n"
    assert node.exec("wait x") == "wait: bad pid: x\n"
