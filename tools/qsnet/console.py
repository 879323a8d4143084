"""A node's serial console: QEMU serves it on a unix socket (one client at
a time) and copies everything the node prints into a log file. Here: the
shell's prompt, typing, running one shell command and reading its output,
the interactive relay (`qsnet console`), and reading and waiting on the
log."""

import os
import re
import select
import signal
import socket
import sys
import time

from .errors import QsnetClosed, QsnetError, QsnetTimeout
from .host import POLL, unread

DETACH_KEY = b"\x1d"  # Ctrl-]


def prompt_regex(node):
    """Regex matching node NODE's shell prompt at the start of a line."""
    return re.compile(r"(?m)^qs%d> " % int(node))


def send_raw(sock, data, timeout=30, node=0):
    """Send bytes on a console connection as typed, without adding "\\r".
    Returns once QEMU has taken all of them (into the guest UART)."""
    if isinstance(data, str):
        data = data.encode()
    deadline = time.monotonic() + timeout
    sock.sendall(data)
    sock.setblocking(False)
    # SIOCOUTQ: bytes not yet consumed by the peer. Closing before QEMU
    # read them all would drop the rest (QEMU sees HUP).
    while unread(sock):
        try:
            sock.recv(65536)  # discard echo; the log has everything
        except (BlockingIOError, InterruptedError):
            pass
        if time.monotonic() > deadline:
            raise QsnetTimeout("node %d: guest did not read input" % node)
        time.sleep(POLL)


def run_command(sock, node, cmd, timeout=60):
    """Type CMD + "\\r" on a console connection to NODE's shell, return
    the shell's output for it (echoed command line and final prompt
    removed, "\\r\\n" -> "\\n")."""
    deadline = time.monotonic() + timeout
    rx = prompt_regex(node)
    plain = "qs%d> " % int(node)
    # the echo of the command's printable prefix marks where its output
    # starts; anything before it is earlier output still arriving. A
    # background program may print while the line is echoed, so whole
    # lines of its output may sit between any two echoed characters.
    # The whole command, when it is short and printable, must be followed
    # by the newline, so that output that merely starts like it does not
    # count as its echo.
    key = re.match(r"[ -~]*", cmd).group(0)[:40]
    lines = r"(?:[^\n]*\n)*?"
    whole = lines + r"\n" if key == cmd else ""
    echo = re.compile(r"(?m)(?:^|%s)%s%s" % (
        re.escape(plain), lines.join(re.escape(c) for c in key), whole))
    buf = b""
    sock.sendall(cmd.encode() + b"\r")
    while True:
        text = buf.decode("utf-8", "replace").replace("\r", "")
        e = echo.search(text) if key else None
        nl = (e.end() - 1 if whole else text.find("\n", e.end())) if e else (
            -1 if key else text.find("\n"))
        if nl >= 0:  # the command line is complete: find the prompt
            m = rx.search(text, nl + 1)
            if m:
                return text[nl + 1:m.start()]
            if text.endswith(plain) and len(text) - len(plain) > nl:
                return text[nl + 1:-len(plain)]  # output lacked \n
        left = deadline - time.monotonic()
        if left <= 0:
            hint = ("" if buf or not unread(sock) else
                    " (the console never read our input: is another "
                    "client, e.g. qsnet console, attached?)")
            raise QsnetTimeout("node %d: timed out after %ss waiting "
                               "for the prompt after %r%s; got:\n%s"
                               % (node, timeout, cmd, hint, text))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            out = text[nl + 1:] if nl >= 0 else text
            raise QsnetClosed("node %d: console closed during %r "
                              "(node stopped?); got:\n%s"
                              % (node, cmd, text), out)
        buf += chunk


def relay(sock, node, backlog=""):
    """Interactive relay between the terminal and a console connection
    until Ctrl-], the node's console closing, or the end of a piped stdin
    once the node has gone quiet. BACKLOG: what the node printed before we
    attached, shown first so that the prompt shows."""
    sock.settimeout(None)
    stdin, out = sys.stdin.fileno(), sys.stdout.fileno()
    tty_mode = os.isatty(stdin)
    saved = None
    try:
        if tty_mode:
            import termios
            import tty
            saved = termios.tcgetattr(stdin)
            for sig in (signal.SIGTERM, signal.SIGHUP):  # run finally:
                signal.signal(sig, lambda *_: sys.exit(1))
            tty.setraw(stdin)
        os.write(out, b"connected to node %d console; Ctrl-] to detach"
                 b"\r\n" % node)
        os.write(out, backlog.replace("\n", "\r\n").encode(errors="replace"))
        eof_at = None
        while True:
            wait = [sock] if eof_at else [sock, stdin]
            r, _, _ = select.select(wait, [], [], 0.5 if eof_at else None)
            if sock in r:
                data = sock.recv(65536)
                if not data:
                    os.write(out, b"\r\n[node %d console closed]\r\n" % node)
                    return
                os.write(out, data)
                eof_at = eof_at and time.monotonic()  # not quiet yet
            elif eof_at and time.monotonic() - eof_at > 2:
                return  # stdin done and the node went quiet
            if stdin in r:
                data = os.read(stdin, 4096)
                if DETACH_KEY in data:
                    sock.sendall(data.split(DETACH_KEY)[0])
                    os.write(out, b"\r\n[detached]\r\n")
                    return
                if not data:
                    eof_at = time.monotonic()
                    continue
                if not tty_mode:
                    data = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
                sock.sendall(data)
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        sock.close()


class ConsoleLog:
    """The console's log file (QEMU starts it afresh at each node start)."""

    def __init__(self, path):
        self.path = path

    def size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def read(self, start=0):
        """Log text from byte offset START, with \\r removed."""
        try:
            with open(self.path, "rb") as f:
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            return ""
        return data.decode("utf-8", "replace").replace("\r", "")

    def tail(self, lines=25):
        tail = "\n".join(self.read().split("\n")[-lines:])
        return tail if tail.strip() else "(console log is empty)"

    def wait(self, regex, timeout=60, start=0, alive=lambda: True, node=0):
        """Wait until REGEX (str or compiled; str gets re.M) matches the log
        text after byte offset START; returns the match object. ALIVE()
        says whether the node still runs: once it does not, nothing more
        will come."""
        rx = re.compile(regex, re.M) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        data, pos = b"", start
        while True:
            running = alive()  # check before the final read
            try:
                with open(self.path, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
            except FileNotFoundError:
                chunk = b""
            if chunk:
                data += chunk
                pos += len(chunk)
                m = rx.search(data.decode("utf-8", "replace").replace("\r", ""))
                if m:
                    return m
            if not running:
                raise QsnetError("node %d stopped while waiting for %r; log "
                                 "tail:\n%s" % (node, rx.pattern, self.tail()))
            if time.monotonic() > deadline:
                raise QsnetTimeout("node %d: timed out after %.0fs waiting for "
                                   "%r; log tail:\n%s" % (node, timeout,
                                                          rx.pattern,
                                                          self.tail()))
            time.sleep(POLL)
