"""Fixtures for the system tests; the helpers live in qsharness.py."""

import pytest

from qsharness import STATE_DIR, Node, boot_cluster


@pytest.fixture(scope="module")
def cluster():
    """One node, booted once per test module and stopped at its end."""
    cl = boot_cluster(STATE_DIR)
    try:
        yield cl
    finally:
        cl.down()


@pytest.fixture(scope="module")
def node(cluster):
    return Node(cluster, 0)
