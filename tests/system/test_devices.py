"""Two nodes booted with test.conf: device grants (devtest, started by init
with grants for the CMOS clock, IRQ 8, the HPET's registers and DMA pages),
node identity from fw_cfg, and a screenshot (of the window manager's screen:
test.conf starts it, and it takes the VGA out of text mode)."""

import re


from qsharness import PROG_TIMEOUT, Node, cluster_fixture


cluster = cluster_fixture("test-nodes-dev", 2, conf="test.conf")


def test_devtest_uses_its_grants(cluster):
    node = Node(cluster, 0)
    m = node.wait_log(r"devtest: (\d+) passed, (\d+) failed\n", PROG_TIMEOUT)
    log = node.log()
    assert (int(m.group(1)), int(m.group(2))) == (10, 0), log
    for what in ("irq 8 delivered", "map granted MMIO", "MMIO is read and",
                 "DMA pages with",
                 "MMIO outside the grant is refused", "only init grants"):
        assert re.search(r"devtest: ok %s" % re.escape(what), log), what


def test_each_node_knows_its_id(cluster):
    for i in (0, 1):
        node = Node(cluster, i)
        assert re.search(r"^qs%d> " % i, node.log(), re.M), node.log()
        assert re.search(r"\[kernel\] Quicksilver kernel: node %d," % i,
                         node.log())
        assert node.exec("echo id %d" % i) == "id %d\n" % i


def test_screenshot_of_a_node(cluster, tmp_path):
    Node(cluster, 1).exec("echo on screen")
    png = tmp_path / "node1.png"
    cluster.screenshot(1, str(png))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000  # a blank screen compresses to far less
