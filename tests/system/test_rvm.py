"""libqs's RVM in the guest, in each of its modes (the host unit tests crash it at
every write; here it runs over the real disk server and the real persistent
memory, and over the node's log manager): rvmtest lrvm, vista and node,
started by init from rvm.conf."""

import pytest

from qsharness import Node, cluster_fixture
from test_guest import failures

rvm_cluster = cluster_fixture("test-nodes-rvm", conf="rvm.conf")


@pytest.mark.parametrize("mode, checks",
                         [("lrvm", 24), ("vista", 21), ("node", 27)])
def test_rvmtest_in_guest(rvm_cluster, mode, checks):
    node = Node(rvm_cluster, 0)
    m = node.wait_log(r"rvmtest %s: (\d+) passed, (\d+) failed\n" % mode)
    passed, failed = int(m.group(1)), int(m.group(2))
    assert (passed, failed) == (checks, 0), failures(node.log()) or node.log()
