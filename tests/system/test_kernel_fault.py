"""A fault in the kernel itself panics with a register dump. The node is
booted with the host-only boot argument kfault=1, which lets `crash kernel`
ask the kernel to dereference a bad pointer; without it the request is
refused (see badsys)."""

import re
import socket
import time


from qsharness import cluster_fixture


cluster = cluster_fixture("test-nodes-kfault", args={"kfault": "1"})


def test_kernel_fault_panics_with_register_dump(cluster):
    # Read the dump from the console socket itself, not from the log:
    # when a burst of output outruns the socket buffer (each byte is its own
    # send), QEMU writes the byte it retries into the logfile twice.
    sock = cluster._console(0, 10)
    pattern = re.compile(r"^  cs .* thread \d+\r?\n", re.M)
    seen = ""
    try:
        sock.sendall(b"run crash kernel\r")
        sock.settimeout(1)
        deadline = time.monotonic() + 60
        while not pattern.search(seen):
            assert time.monotonic() < deadline, seen
            try:
                seen += sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                pass
    finally:
        sock.close()
    log = seen.replace("\r", "")
    assert re.search(r"\[kernel\] PANIC: kernel trap 14 \(error 0\) at eip "
                     r"0x[0-9a-f]{8} cr2 0x00000004\n", log), log
    for reg in ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp",
                "eflags"):
        assert " %s " % reg in log, log


