"""Tests of the host tool qsnet (tools/qsnet, its launcher tools/bin/qsnet)
that need no guest."""

import os
import struct
import subprocess
import sys
import zlib

from qsharness import QSNET_PATH, qsnet

VERBS = ("up", "down", "status", "console", "exec", "screenshot",
         "kill-node", "restart-node", "wait-prompt", "tree")


def run(state, *args):
    env = dict(os.environ, QSNET_STATE=str(state))
    return subprocess.run([sys.executable, QSNET_PATH] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def test_help_lists_verbs(tmp_path):
    r = run(tmp_path, "--help")
    assert r.returncode == 0
    for verb in VERBS:
        assert verb in r.stdout, verb
    assert "Ctrl-]" in r.stdout


def test_status_with_nothing_running(tmp_path):
    r = run(tmp_path, "status")
    assert r.returncode == 0, r.stderr
    assert "stopped" in r.stdout
    assert "running" not in r.stdout


def test_exec_on_stopped_node_fails_clearly(tmp_path):
    r = run(tmp_path, "exec", "0", "echo hi")
    assert r.returncode != 0
    assert "node 0 is not running" in r.stderr
    assert "Traceback" not in r.stderr


def test_up_without_iso_fails_clearly(tmp_path):
    r = run(tmp_path, "up", "--iso", str(tmp_path / "missing.iso"))
    assert r.returncode == 1
    assert "ISO not found" in r.stderr
    assert "Traceback" not in r.stderr
    assert "running" not in run(tmp_path, "status").stdout


def test_ppm_to_png_fallback(tmp_path):
    pixels = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
    qsnet.ppm_to_png(b"P6\n# c\n2 2\n255\n" + pixels, str(tmp_path / "x.png"))
    png = (tmp_path / "x.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    assert (w, h) == (2, 2)
    idat = png.index(b"IDAT")
    n = struct.unpack(">I", png[idat - 4:idat])[0]
    raw = zlib.decompress(png[idat + 4:idat + 4 + n])
    assert raw == b"\0" + pixels[:6] + b"\0" + pixels[6:]
