"""Fixtures for the system tests; the helpers live in qsharness.py."""

import pytest

from qsharness import Node, cluster_fixture

# One node, booted once per test module and stopped at its end.
cluster = cluster_fixture("test-nodes")


@pytest.fixture(scope="module")
def node(cluster):
    return Node(cluster, 0)
