"""`halt` powers the node off; the node can be restarted and killed with the
host tool. Uses its own node (state dir build/test-nodes-halt) so halting
does not disturb the shared node of the other modules."""

import os
import subprocess
import sys
import time

import pytest

from qsharness import (BOOT_TIMEOUT, CMD_TIMEOUT, QSNET_PATH, ROOT, Node,
                      cluster_fixture)

STATE = os.path.join(ROOT, "build", "test-nodes-halt")


halt_cluster = cluster_fixture(os.path.basename(STATE))


def qsnet_cli(*args):
    env = dict(os.environ, QSNET_STATE=STATE)
    return subprocess.run([sys.executable, QSNET_PATH] + list(args), env=env,
                          capture_output=True, text=True, timeout=CMD_TIMEOUT)


def wait_stopped(cl, node, timeout=CMD_TIMEOUT):
    deadline = time.monotonic() + timeout
    while cl.is_running(node):
        if time.monotonic() > deadline:
            pytest.fail("node %d still running; log tail:\n%s"
                        % (node, cl.log_tail(node)))
        time.sleep(0.1)  # poll interval for the QEMU process to exit


def test_halt_powers_off(halt_cluster):
    node = Node(halt_cluster, 0)
    node.alive()
    node.send_raw("halt\r")
    wait_stopped(halt_cluster, 0)
    r = qsnet_cli("status")
    assert r.returncode == 0, r.stderr
    assert "node 0 stopped" in r.stdout, r.stdout


def test_restart_then_kill_node(halt_cluster):
    if halt_cluster.is_running(0):  # halt test failed or did not run
        halt_cluster.kill_node(0)
    halt_cluster.restart_node(0, timeout=BOOT_TIMEOUT)
    node = Node(halt_cluster, 0)
    assert node.exec("echo back again") == "back again\n"
    r = qsnet_cli("kill-node", "0")
    assert r.returncode == 0, r.stderr
    assert not halt_cluster.is_running(0)
    assert "node 0 stopped" in qsnet_cli("status").stdout
