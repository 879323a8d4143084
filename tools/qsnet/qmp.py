"""QMP, QEMU's JSON monitor on a unix socket: one connection per command
(screendump, set_link, quit, query-chardev)."""

import json

from .errors import QsnetError
from .host import connect_unix


def qmp_call(sock_path, cmd, args=None, timeout=30):
    """Run one QMP command on the monitor at SOCK_PATH; returns its
    "return" value ({} for a quit that closed the connection)."""
    with connect_unix(sock_path, timeout) as s:
        f = s.makefile("rwb")

        def call(execute, arguments=None):
            msg = {"execute": execute}
            if arguments:
                msg["arguments"] = arguments
            f.write(json.dumps(msg).encode() + b"\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    if execute == "quit":
                        return {}
                    raise QsnetError("QMP connection closed")
                reply = json.loads(line)
                if "error" in reply:
                    raise QsnetError("QMP %s: %s" % (
                        execute, reply["error"].get("desc", reply)))
                if "return" in reply:
                    return reply["return"]

        json.loads(f.readline() or b"{}")  # greeting
        call("qmp_capabilities")
        return call(cmd, args)


def chardev_connected(sock_path, label, timeout=30):
    """Whether a client is connected to the socket chardev LABEL (QEMU
    calls an idle server socket's filename "disconnected:...")."""
    for dev in qmp_call(sock_path, "query-chardev", timeout=timeout):
        if dev.get("label") == label:
            return not dev.get("filename", "").startswith("disconnected:")
    raise QsnetError("QMP: no chardev %r" % label)
