"""Host plumbing the other modules share: unix sockets (QEMU's console and
QMP, wirefilter's management socket) and the daemons' pid files."""

import fcntl
import os
import socket
import struct

POLL = 0.05  # seconds between polls of a file or a process


def connect_unix(path, timeout=None):
    """Connect to a unix socket, working around the 108-byte path limit."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    path = os.path.abspath(path)
    try:
        if len(path.encode()) < 100:
            s.connect(path)
        else:  # go through a directory fd: /proc/self/fd/N/name is short
            dfd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
            try:
                s.connect("/proc/self/fd/%d/%s" % (dfd, os.path.basename(path)))
            finally:
                os.close(dfd)
    except OSError:
        s.close()
        raise
    return s


def unread(sock):
    """Bytes we sent on a unix socket that the peer has not read yet
    (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(sock, 0x5411, b"\0" * 4))[0]


def pidfile_process(pidfile, marker):
    """The pid in PIDFILE if that process runs and its command line holds
    MARKER (bytes: a name or socket path only it has), else None: a stale
    pid file, a reused pid and a zombie all count as not running."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if marker not in f.read():
                return None
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return None  # exited, waiting to be reaped
        return pid
    except (OSError, ValueError, IndexError):
        return None
