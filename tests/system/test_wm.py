"""The window manager (servers/wm), on a node booted with test.conf: its
protocol in the in-guest wmtest suite (bad requests, ownership by
transaction, a full table), `win` and `win stats`, winclient, and what the
screen shows, pixel by pixel. On the host: scripts/psf2c.py, which turns a
console font into the WM's glyphs."""

import gzip
import os
import re
import struct
import subprocess

import pytest

from qsharness import ROOT, Node, cluster_fixture, screen
from test_guest import reap, run_suite

wm_cluster = cluster_fixture("test-nodes-wm", conf="test.conf")

BACKGROUND = (0x30, 0x50, 0x70)  # RENDER_BACKGROUND in servers/wm/render.h
TEXT = (0x10, 0x10, 0x10)        # C_TEXT in servers/wm/render.c
STATUS_MAX = 32                  # the status line is at most this tall
PSF2C = os.path.join(ROOT, "scripts", "psf2c.py")
FONT = "/usr/share/consolefonts/Lat15-Terminus16.psf.gz"


@pytest.fixture(scope="module")
def node(wm_cluster):
    return Node(wm_cluster, 0)


ROW = re.compile(r"^\s*(\d+) (\d+\.\d+\.\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                 r"\s+(\d+)\s+(\d+) ?(.*)$", re.M)


def windows(node):
    """Parse `win`: list of dicts id, tx, pid, x, y, w, h, title. Lines a
    background program printed meanwhile are not rows and are skipped."""
    out = node.exec("win")
    assert re.search(r"^\s*ID TX\s+PID\s+X\s+Y\s+W\s+H TITLE$", out, re.M), out
    return [dict(id=int(m[0]), tx=m[1], pid=int(m[2]), x=int(m[3]),
                 y=int(m[4]), w=int(m[5]), h=int(m[6]), title=m[7])
            for m in ROW.findall(out)]


def wm_stats(node):
    out = node.exec("win stats")
    m = re.search(r"^wm: windows (\d+) crumbs (\d+) created (\d+) closed (\d+) "
                  r"by-tx (\d+) screen (\d+)x(\d+)x(\d+)$", out, re.M)
    assert m, out
    keys = "windows crumbs created closed by_tx width height bpp".split()
    return dict(zip(keys, map(int, m.groups())))


def open_window(node, args):
    """`run winclient ARGS`; returns (pid, window id)."""
    start = node.log_size()
    pid = node.run("winclient " + args)
    m = node.wait_log(r"winclient: window (\d+) open$", start=start)
    return pid, int(m.group(1))


def wm_pid(node):
    pids = [r["pid"] for r in node.ps() if r["name"] == "wm"]
    assert len(pids) == 1, node.ps()
    return pids[0]


# ---- in the guest -------------------------------------------------------------

def test_wm_is_up(node):
    assert re.search(r"^wm: serving queue wm \(qid \d+\), screen 800x600x32$",
                     node.log(), re.M), node.log()
    s = wm_stats(node)
    assert (s["width"], s["height"], s["bpp"]) == (800, 600, 32), s
    assert s["windows"] == 0 and windows(node) == []
    assert re.search(r"^win - \S", node.exec("help"), re.M)


def test_wmtest_in_guest(node):
    """Bad requests (unknown opcode, short messages, unknown ids) get errors
    and the WM keeps serving; only the owning transaction may touch a
    window; a client past WM_CLIENT_WINDOWS is refused and recovers, and
    another client at its limit does not stop us being served; its
    windows go when it is killed."""
    pid = wm_pid(node)
    start = node.log_size()
    run_suite(node, "wmtest", 30)
    assert re.search(r"^wmtest: hog: 16 windows, then over a limit of the "
                     r"process$", node.log(start), re.M), node.log(start)
    assert wm_pid(node) == pid, "the WM restarted or died"
    assert wm_stats(node)["windows"] == 0


def test_winclient_exits_normally(node):
    start = node.log_size()
    pid = node.run("winclient brief exit 3")
    node.wait_log(r"winclient: window \d+ open$", start=start)
    assert reap(node, pid) == "pid %d exited with status 0" % pid
    assert "winclient: brief:" not in node.log(start)


def test_win_lists_a_client(node):
    pid, wid = open_window(node, "demo")
    rows = [w for w in windows(node) if w["id"] == wid]
    assert rows and rows[0]["title"] == "demo" and rows[0]["pid"] == pid, \
        windows(node)
    s = wm_stats(node)
    assert s["windows"] >= 1 and s["crumbs"] >= 1, s
    node.kill(pid)


def covered(wins, y):
    """The x-intervals of row y that windows cover, merged and sorted."""
    spans = sorted((w["x"], w["x"] + w["w"]) for w in wins
                   if w["y"] <= y < w["y"] + w["h"])
    merged = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def status_top(scr):
    """The first row of the status line: the one below the lowest row that
    shows any background."""
    bg = bytes(BACKGROUND)
    y = scr.height
    while y > 0 and bg not in [scr.span(x, y - 1, 1) for x in range(scr.width)]:
        y -= 1
    assert scr.height - STATUS_MAX <= y < scr.height, "no status line"
    return y


def assert_background_outside(scr, wins, top):
    """Every pixel above the status line that no window covers is the
    background colour."""
    bg = bytes(BACKGROUND)
    for y in range(top):
        x = 0
        for a, b in covered(wins, y) + [[scr.width, scr.width]]:
            if a > x:
                assert scr.span(x, y, a - x) == bg * (a - x), \
                    "row %d, x %d..%d is not all background" % (y, x, a)
            x = max(x, b)


def assert_window_drawn(scr, w):
    """The window's rectangle shows a window: its corners and most of its
    pixels are not background, and some are text."""
    bg, text = bytes(BACKGROUND), bytes(TEXT)
    x0, y0, x1, y1 = w["x"], w["y"], w["x"] + w["w"] - 1, w["y"] + w["h"] - 1
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        assert scr.pixel(x, y) != BACKGROUND, "corner (%d, %d) of %r" % (x, y, w)
    inside = b"".join(scr.span(x0, y, w["w"]) for y in range(y0, y1 + 1))
    pixels = [inside[i:i + 3] for i in range(0, len(inside), 3)]
    assert sum(p == bg for p in pixels) == 0, "background inside %r" % w
    assert sum(p == text for p in pixels) > 100, "no text in %r" % w


def has_text(scr, w):
    row = lambda y: scr.span(w["x"], y, w["w"])
    text = bytes(TEXT)
    return any(text in row(y) for y in range(w["y"], w["y"] + w["h"]))


def test_three_windows_on_screen(node, wm_cluster, tmp_path):
    # the windows of the clients killed above go with their transactions
    node.poll("no windows left", lambda: (windows(node) == [], windows(node)))
    clients = [open_window(node, t) for t in ("alpha", "beta", "gamma")]
    ids = {wid for _, wid in clients}
    wins = [w for w in windows(node) if w["id"] in ids]
    node.poll("text in every window", lambda: (all(
        has_text(screen(wm_cluster, 0, tmp_path), w) for w in wins), None))
    scr = screen(wm_cluster, 0, tmp_path)
    assert (scr.width, scr.height) == (800, 600)
    top = status_top(scr)
    assert sorted(w["title"] for w in wins) == ["alpha", "beta", "gamma"]
    for i, a in enumerate(wins):  # placed side by side, all visible
        assert 0 <= a["x"] and a["x"] + a["w"] <= 800, a
        assert 0 <= a["y"] and a["y"] + a["h"] <= top, a
        for b in wins[i + 1:]:
            assert (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or
                    a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]), \
                "%r overlaps %r" % (a, b)
    assert_background_outside(scr, windows(node), top)
    for w in wins:
        assert_window_drawn(scr, w)
    png = tmp_path / "wm.png"
    wm_cluster.screenshot(0, str(png))
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and \
        struct.unpack(">II", head[16:24]) == (800, 600)
    for pid, _ in clients:
        node.kill(pid)


# ---- on the host: the font converter ------------------------------------------

def glyph_table(c_text):
    """The generated font.c as {code point or '?': bytes}."""
    body = c_text.split("font_glyphs[] = {", 1)[1]
    out = {}
    for m in re.finditer(r"/\* (U\+([0-9A-F]{4})|fallback '\?').*?\*/\n"
                         r"\t([0-9a-fx, ]+),", body):
        key = int(m.group(2), 16) if m.group(2) else "?"
        out[key] = bytes(int(v, 16) for v in m.group(3).split(", "))
    return out


def run_psf2c(src, tmp_path):
    out = tmp_path / "font.c"
    subprocess.run(["/usr/bin/python3", PSF2C, str(src), str(out)], check=True)
    return out.read_text()


def test_psf2c_converts_the_console_font(tmp_path):
    text = run_psf2c(FONT, tmp_path)
    assert "font_width = 8;" in text and "font_height = 16;" in text
    g = glyph_table(text)
    assert len(g) == 0x7E - 0x20 + 2 and all(len(v) == 16 for v in g.values())
    assert g[0x20] == bytes(16) and g[ord("A")] != bytes(16)
    assert g["?"] == g[ord("?")]


def fake_glyph(i, size):
    return bytes((i * 7 + k) & 0xFF or 1 for k in range(size))


def test_psf2c_maps_through_the_unicode_table(tmp_path):
    """Glyph indexes that are not code points, in PSF2 (UTF-8 table, with a
    sequence) and PSF1 (UCS-2 table); 'Z' is missing and becomes '?'."""
    chars = [c for c in range(0x20, 0x7F) if c != ord("Z")]
    order = list(reversed(chars))  # glyph i shows order[i]
    n = len(order)
    table = b"".join(chr(c).encode() + (b"\xfe\x41\xcc\x81" if c == ord("A")
                                        else b"") + b"\xff" for c in order)
    psf2 = struct.pack("<4sIIIIIII", b"\x72\xb5\x4a\x86", 0, 32, 1, n, 32,
                       16, 12)
    psf2 += b"".join(fake_glyph(i, 32) for i in range(n)) + table
    (tmp_path / "f2.psf").write_bytes(gzip.compress(psf2))
    g = glyph_table(run_psf2c(tmp_path / "f2.psf", tmp_path))
    assert g[ord("A")] == fake_glyph(order.index(ord("A")), 32)
    assert g[ord("~")] == fake_glyph(0, 32)
    assert g[ord("Z")] == g["?"] == fake_glyph(order.index(ord("?")), 32)

    psf1 = bytes([0x36, 0x04, 0x02, 16])
    glyphs = [fake_glyph(i, 16) for i in range(256)]
    table1 = b"".join((struct.pack("<H", order[i]) if i < n else b"") +
                      b"\xff\xff" for i in range(256))
    (tmp_path / "f1.psf").write_bytes(psf1 + b"".join(glyphs) + table1)
    g = glyph_table(run_psf2c(tmp_path / "f1.psf", tmp_path))
    assert g[ord("b")] == fake_glyph(order.index(ord("b")), 16)
    assert g[ord("Z")] == g["?"]
