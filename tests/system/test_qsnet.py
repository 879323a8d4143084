"""Tests of the host tool qsnet (the package tools/qsnet, its launcher
tools/bin/qsnet) that need no guest: the command line; that the harness,
the test modules and the benchmarks use the package's parsers, PPM reader
and QEMU command line rather than their own."""

import os
import struct
import subprocess
import sys
import zlib

import qsharness
import test_dtx
import test_net
import test_tm
from qsharness import QSNET_PATH, ROOT, Node, qsnet

VERBS = ("up", "down", "status", "console", "exec", "screenshot",
         "kill-node", "restart-node", "wait-prompt", "tree")


def run(state, *args, timeout=60):
    env = dict(os.environ, QSNET_STATE=str(state))
    return subprocess.run([sys.executable, QSNET_PATH] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


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


def test_launcher_leaves_no_bytecode():
    subprocess.run([sys.executable, QSNET_PATH, "--help"], check=True,
                   capture_output=True)
    assert not os.path.exists(os.path.join(ROOT, "tools", "qsnet",
                                           "__pycache__"))


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


# ---- one set of parsers, one PPM reader, one QEMU command line -----------

PS = ("  PID PARENT NAME             STATE     THREADS PAGES  TICKS\n"
      "    1      0 init             running         1    40      3\n"
      "    6      1 wm               suspended       7   811      2\n")
MEM = "pages: total 65000, free 60000, used 5000\nkernel heap: 4096 bytes\n"
TX = ("TX           OWNER COORD STATE     SUP   SUBS  PARTICIPANTS\n"
      "0.3.17          12     0 active    -     1,2   6:volatile\n"
      "0.3.18           -     1 prepared  1     -     7:recoverable(yes)\n")


def nodes_text(view):
    """What the shell's `nodes` prints for VIEW, {node: (state, inc)}."""
    return ("NODE ADDRESS     STATE   INCARNATION LAST-HEARD HEARTBEATS "
            "RESTARTS\n" +
            "".join("%4u 10.0.0.%-4u %-7s %11u %7u ms %10u %8u\n"
                    % (n, n + 1, state, inc, 10, 5, 0)
                    for n, (state, inc) in sorted(view.items())) +
            "bad packets 0\n")


class CannedShell:
    """Stands in for a cluster: exec answers from canned outputs."""

    def __init__(self, outputs):
        self.outputs = outputs

    def exec(self, node, cmd, timeout=60):
        return self.outputs[cmd]


def test_harness_and_tests_parse_with_the_package(monkeypatch):
    used = []
    for name in ("ps_rows", "parse_mem", "parse_tx", "parse_nodes"):
        real = getattr(qsnet, name)
        monkeypatch.setattr(qsnet, name, lambda text, name=name, real=real:
                            used.append(name) or real(text))
    node = Node(CannedShell({"ps": PS, "mem": MEM, "tx": TX,
                             "nodes": nodes_text({0: ("up", 3)})}), 0)
    assert [(r["pid"], r["name"], r["state"]) for r in node.ps()] == \
        [(1, "init", "running"), (6, "wm", "suspended")]
    assert node.mem_free() == 60000
    rows = test_tm.tx_rows(node)
    assert rows["0.3.17"]["subs"] == [1, 2] and rows["0.3.18"]["sup"] == 1
    assert test_dtx.records(node) == qsnet.parse_tx(TX)
    assert test_net.members(node) == ({0: dict(state="up", inc=3, ago=10,
                                               heartbeats=5, restarts=0)}, 0)
    assert used == ["ps_rows", "parse_mem", "parse_tx", "parse_tx",
                    "parse_tx", "parse_nodes"]
    assert qsnet.parse_ps(PS) == {1: "init", 6: "wm"}
    assert qsnet.__file__.startswith(os.path.join(ROOT, "tools", "qsnet"))


class ScreenOnly(qsnet.Cluster):
    """A cluster whose QMP screendump writes a 2x1 PPM."""

    def qmp(self, node, cmd, args=None, timeout=30):
        assert cmd == "screendump"
        with open(args["filename"], "wb") as f:
            f.write(b"P6\n2 1\n255\n" + bytes([1, 2, 3, 4, 5, 6]))


def test_harness_screen_is_the_package_reader(tmp_path):
    assert qsharness.Screen is qsnet.Screen
    assert not hasattr(qsharness, "parse_ppm")
    scr = qsharness.screen(ScreenOnly(str(tmp_path)), 0, tmp_path)
    assert isinstance(scr, qsnet.Screen)
    assert (scr.width, scr.height) == (2, 1)
    assert scr.pixel(1, 0) == (4, 5, 6) and scr.span(0, 0, 2) == bytes(range(1, 7))


def test_nothing_loads_a_module_by_path():
    loaders = ("SourceFileLoader", "spec_from_" + "file_location")
    here = os.path.join(ROOT, "tests", "system")
    files = [os.path.join(here, f) for f in os.listdir(here)
             if f.endswith(".py") and f != os.path.basename(__file__)]
    for path in files + [os.path.join(ROOT, "bench", "bench.py")]:
        with open(path) as f:
            text = f.read()
        assert not any(word in text for word in loaders), path


def test_one_qemu_command_line(tmp_path, monkeypatch):
    """The benchmarks' single nodes and the cluster's nodes come from
    qsnet.qemu_argv; neither has user networking or tap."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no bench/__pycache__
    monkeypatch.syspath_prepend(os.path.join(ROOT, "bench"))
    import bench
    assert bench.qsnet is qsnet
    seen = []

    def fake_run(argv, **kw):
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, "bench: done\n", "")
    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    bench.run("x.iso", "bench.conf", storage=str(tmp_path / "st"))
    disk, pmem = (str(tmp_path / "st" / n) for n in ("disk.img", "pmem.img"))
    assert seen == [qsnet.qemu_argv("x.iso", disk=disk, pmem=pmem,
                                    boot_args=[("conf", "bench.conf")],
                                    icount=True)]
    assert os.path.getsize(disk) == qsnet.DISK_SIZE
    node = qsnet.Cluster(str(tmp_path)).qemu_argv(
        2, {"iso": "x.iso", "incarnation": 4, "args": {"k": "a,b"}})
    for argv in (seen[0], node):
        assert "-nic none" in " ".join(argv)
        netdevs = [argv[i + 1] for i, a in enumerate(argv) if a == "-netdev"]
        assert all(d.startswith("vde,") for d in netdevs), argv
    assert "mac=52:54:00:12:34:02" in " ".join(node)
    assert "name=opt/qs/k,string=a,,b" in node
    assert "name=opt/qs/incarnation,string=4" in node
