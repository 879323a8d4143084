"""Tests of the host tool qsnet (the package tools/qsnet, its launcher
tools/bin/qsnet): the command line without a guest; that the harness, the
test modules and the benchmarks use the package's parsers, PPM reader and
QEMU command line rather than their own; that `up` and `restart-node` wait
until the cluster has formed (against scripted shells, then three live
nodes)."""

import json
import os
import struct
import subprocess
import sys
import zlib

import pytest

import qsharness
import test_dtx
import test_net
import test_tm
from qsharness import BOOT_TIMEOUT, ISO, QSNET_PATH, ROOT, Node, qsnet

VERBS = ("up", "down", "status", "console", "exec", "screenshot",
         "kill-node", "restart-node", "wait-prompt", "tree", "cut")


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


def test_restart_of_a_node_never_started_fails_clearly(tmp_path):
    r = run(tmp_path, "restart-node", "3")
    assert r.returncode == 1
    assert "node 3 was never started" in r.stderr
    assert "Traceback" not in r.stderr


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


# ---- up and restart-node wait until the cluster has formed ---------------

class ScriptedCluster(qsnet.Cluster):
    """A cluster without QEMU: starting a node only records it, and each
    node's shell answers `nodes` from a script, one answer per question,
    the last one again once the script is used up."""

    def __init__(self, state_dir):
        qsnet.Cluster.__init__(self, state_dir, iso=__file__)
        self.scripts, self.asked, self.running = {}, {}, set()

    def start_node(self, node, opts, once_args=None):
        os.makedirs(self.node_dir(node), exist_ok=True)
        opts = dict(opts, incarnation=self._next_incarnation(node))
        with open(self.path(node, "node.json"), "w") as f:
            json.dump(opts, f)
        self.running.add(node)
        return 1000 + node

    def pid(self, node):
        return 1000 + node if node in self.running else None

    def wait_prompt(self, node, timeout=120, start=0):
        pass

    def _console_in_use(self, node):
        return False

    def exec(self, node, cmd, timeout=60):
        assert cmd == "nodes"
        i = self.asked.get(node, 0)
        self.asked[node] = i + 1
        script = self.scripts[node]
        return script[min(i, len(script) - 1)]


def test_up_waits_until_every_node_sees_every_node(tmp_path):
    cl = ScriptedCluster(str(tmp_path))
    alone = {0: nodes_text({0: ("up", 1)}), 1: nodes_text({1: ("up", 1)}),
             2: nodes_text({2: ("up", 1)})}
    full = nodes_text({n: ("up", 1) for n in range(3)})
    cl.scripts = {
        0: [alone[0], nodes_text({0: ("up", 1), 1: ("up", 1)}), full],
        1: [alone[1], nodes_text({0: ("up", 1), 1: ("up", 1),
                                  2: ("suspect", 1)}), full, full],
        2: [alone[2], full]}
    assert cl.up(3, timeout=30) == [1000, 1001, 1002]
    # each asked until it saw everyone, and not again after
    assert cl.asked == {0: 3, 1: 3, 2: 2}


def test_up_without_a_cm_waits_for_the_prompts_only(tmp_path):
    cl = ScriptedCluster(str(tmp_path))
    cl.scripts = {n: ["nodes: no communication manager (queue cm)\n"]
                  for n in range(2)}
    cl.up(2, conf="bare.conf", timeout=30)
    assert cl.asked == {0: 1, 1: 1}
    cl = ScriptedCluster(str(tmp_path / "one"))
    cl.scripts = {0: [nodes_text({0: ("up", 1)})]}
    cl.up(1, timeout=30)
    assert cl.asked == {0: 1}


def test_restart_waits_to_see_and_be_seen_in_the_new_incarnation(tmp_path):
    cl = ScriptedCluster(str(tmp_path))
    cl.scripts = {n: [nodes_text({m: ("up", 1) for m in range(3)})]
                  for n in range(3)}
    cl.up(3, timeout=30)
    cl.running.discard(1)  # killed
    def seen(one):  # as all up in incarnation 1 but for node 1
        return nodes_text({0: ("up", 1), 1: one, 2: ("up", 1)})
    cl.scripts = {0: [seen(("up", 1)), seen(("suspect", 1)), seen(("up", 2))],
                  1: [nodes_text({1: ("up", 2)}), seen(("up", 2))],
                  2: [seen(("down", 1)), seen(("up", 2))]}
    cl.asked = {}
    assert cl.restart_node(1, timeout=30) == 1001
    assert cl.asked == {0: 3, 1: 2, 2: 2}


def test_a_cluster_that_does_not_form_times_out(tmp_path):
    cl = ScriptedCluster(str(tmp_path))
    cl.scripts = {0: [nodes_text({0: ("up", 1), 1: ("up", 1)})],
                  1: [nodes_text({0: ("down", 1), 1: ("up", 1)})]}
    with pytest.raises(qsnet.QsnetTimeout) as e:
        cl.up(2, timeout=1)
    assert "node 1 does not see 0 (incarnation 1) up" in str(e.value)


STATE = os.path.join(ROOT, "build", "test-nodes-qsnet")


@pytest.fixture(scope="module")
def formed():
    """Three nodes, started with the command line's `up -n 3`."""
    cl = qsnet.Cluster(STATE, iso=ISO)
    cl.down()  # an interrupted run's nodes
    try:
        r = run(STATE, "up", "-n", "3", "--iso", ISO, "--timeout",
                str(BOOT_TIMEOUT), timeout=BOOT_TIMEOUT + 60)
        assert r.returncode == 0, r.stderr
        assert [l.split(":")[0] for l in r.stdout.splitlines()] == \
            ["node %d up" % n for n in range(3)], r.stdout
        yield cl
    finally:
        cl.down()


def assert_all_see_all(cl):
    """Every node's CM sees every node up, in the incarnation it runs."""
    incs = {n: cl.options(n)["incarnation"] for n in range(3)}
    for n in range(3):
        members, _ = qsnet.parse_nodes(Node(cl, n).exec("nodes"))
        assert {m: (v["state"], v["inc"]) for m, v in members.items()} == \
            {m: ("up", inc) for m, inc in incs.items()}, (n, members)


def test_up_returns_with_the_cluster_formed(formed):
    # at once: a remote file server and window manager are found
    n0 = Node(formed, 0)
    start = n0.log_size()
    pid = n0.run("chain -hold /c")
    m = n0.wait_log(r"chain: (holding tx \S+|no file server.*)\n",
                    start=start)
    assert m.group(1).startswith("holding"), m.group(0)
    n0.kill(pid)
    assert_all_see_all(formed)


def test_restart_node_returns_with_the_node_seen(formed):
    inc = formed.options(1)["incarnation"]
    assert run(STATE, "kill-node", "1").returncode == 0
    r = run(STATE, "restart-node", "1", "--timeout", str(BOOT_TIMEOUT),
            timeout=BOOT_TIMEOUT + 60)
    assert r.returncode == 0 and r.stdout.startswith("node 1 up: pid"), r
    assert formed.options(1)["incarnation"] == inc + 1
    assert_all_see_all(formed)
