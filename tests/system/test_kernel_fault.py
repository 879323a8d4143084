"""A fault in the kernel itself panics with a register dump. The node is
booted with the host-only boot argument kfault=1, which lets `crash kernel`
ask the kernel to dereference a bad pointer; without it the request is
refused (see badsys)."""

import re
import socket
import time


from qsharness import Node, cluster_fixture


cluster = cluster_fixture("test-nodes-kfault", args={"kfault": "1"})


def test_kernel_fault_panics_with_register_dump(cluster):
    node = Node(cluster, 0)
    start = node.log_size()
    # Stay connected, and keep reading, until the dump is complete: QEMU
    # logs a byte twice when the console client stops draining the socket,
    # and loses the rest if the client goes away mid-output.
    sock = cluster._console(0, 10)
    pattern = re.compile(r"^  cs .* thread \d+\n", re.M)
    try:
        sock.sendall(b"run crash kernel\r")
        sock.settimeout(1)
        deadline = time.monotonic() + 60
        while not pattern.search(node.log(start)):
            assert time.monotonic() < deadline, node.log(start)
            try:
                sock.recv(65536)
            except socket.timeout:
                pass
    finally:
        sock.close()
    log = node.log(start)
    assert re.search(r"\[kernel\] PANIC: kernel trap 14 \(error 0\) at eip "
                     r"0x[0-9a-f]{8} cr2 0x00000004\n", log), log
    for reg in ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp",
                "eflags"):
        assert " %s " % reg in log, log
    assert "thread" in log


