"""The disk server and the persistent memory, on a node booted with
test.conf (which starts the disk server first, and `disktest pmemd` with the
grants the pmem checks need): the in-guest disktest suite; data written to
a disk region, and to the persistent memory, survives a killed QEMU; random
garbage leaves the disk server serving. Each persistence test uses a fresh
random seed, so data left by an earlier run cannot pass for it."""

import os
import random
import re

import pytest

from qsharness import BOOT_TIMEOUT, ROOT, Node, cluster_fixture
from test_guest import failures, reap, wait_summary

disk_cluster = cluster_fixture("test-nodes-disk", conf="test.conf")


@pytest.fixture(scope="module")
def node(disk_cluster):
    return Node(disk_cluster, 0)


def disktest(node, args, checks, failed=0):
    """`run disktest ARGS`; insists on exactly CHECKS checks, FAILED of them
    failed; reaps it; returns its output."""
    start = node.log_size()
    pid = node.run(("-r admin disktest " + args).strip())
    passed, nfailed, log = wait_summary(node, "disktest", start)
    assert (passed + nfailed, nfailed) == (checks, failed), failures(log) or log
    reap(node, pid)
    return log


def kill_and_restart(cluster, node):
    cluster.kill_node(node.id)
    assert not cluster.is_running(node.id)
    cluster.restart_node(node.id, BOOT_TIMEOUT)


def seed():
    return random.randrange(1, 1 << 30)


def disk_pid(node):
    pids = [r["pid"] for r in node.ps() if r["name"] == "disk"]
    assert len(pids) == 1, node.ps()
    return pids[0]


def configured_regions(disk_sectors):
    """The layout test.conf's `start disk` line asks for, as the server
    prints it: NAME=FIRST+SECTORS from sector 1 on, * the rest."""
    with open(os.path.join(ROOT, "tests", "system", "test.conf")) as f:
        line = next(l for l in f if l.startswith("start disk "))
    regions, first = [], 1
    for arg in line.split()[2:]:
        name, rest = arg.split("=")
        size, owner = rest.split(":")
        n = disk_sectors - first if size == "*" else int(size)
        regions.append("%s=%d+%d:%s" % (name, first, n, owner))
        first += n
    return regions


def test_the_disk_server_starts_first(disk_cluster, node):
    log = node.log()
    m = re.search(r"^disk: regions (.*) \(name=first\+sectors:owner\)$", log, re.M)
    assert m, log
    sectors = os.path.getsize(disk_cluster.path(node.id, "disk.img")) // 512
    assert m.group(1).split() == configured_regions(sectors)
    assert disk_pid(node) == 2  # init's first child


def test_disktest_in_guest(node):
    log = disktest(node, "", 27)
    for what in ("a bad region handle", "a sector beyond the region",
                 "a write across the region's end is refused",
                 "a region's last sector and the next one's first are apart",
                 "another server's region is refused",
                 "unknown operations",
                 "stats: every refused request is an error"):
        assert "disktest: ok " + what in log, what


def test_a_region_survives_a_killed_qemu(disk_cluster, node):
    s = seed()
    disktest(node, "fill spare %d" % s, 1)
    kill_and_restart(disk_cluster, node)
    disktest(node, "verify spare %d" % s, 1)
    disktest(node, "verify spare %d" % (s + 1), 1, failed=1)  # it does check


def test_pmem_in_guest(node):
    log = disktest(node, "pmem", 6)
    assert "disktest: pmem is 16 MiB" in log, log


def test_pmem_survives_a_killed_qemu(disk_cluster, node):
    s = seed()
    disktest(node, "pmemfill %d" % s, 2)
    kill_and_restart(disk_cluster, node)
    disktest(node, "pmemverify %d" % s, 2)
    disktest(node, "pmemverify %d" % (s + 1), 2, failed=1)


def test_garbage_leaves_the_disk_server_serving(node):
    pid = disk_pid(node)
    start = node.log_size()
    log = disktest(node, "garbage 300 %d" % seed(), 3)
    assert re.search(r"disktest: 300 random requests, \d+ refused", log), log
    assert disk_pid(node) == pid
    assert "(disk)" not in node.log(start)  # no fault of the server
    disktest(node, "fill spare %d" % seed(), 1)
