"""bench/report.py, which writes docs/bench.md's table from make bench's
build/bench/results.json, run on a sample in a temporary directory (no
QEMU, no guest)."""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REPORT = os.path.join(ROOT, "bench", "report.py")
BEGIN = "<!-- bench table: begin -->"
END = "<!-- bench table: end -->"

# Made-up figures in the shapes bench.py writes: ints, and floats for
# ratios and per-commit averages.
SAMPLE = {
    "ipc.null_rtt.instr": 2000,
    "ipc.stamp_overhead.ratio": 1.0123,
    "rvm.flush.disk_writes_per_tx": 1.0,
    "dtx.recov3.msgs": 8.0,
    "dtx.readonly.forces": 4.5,
    "dtx.cleanup_3node.instr": 6000000,
    "dtx.group.forces_per_commit_node": 0.42,
    "dtx.group.commits_per_s": 1234,
    "dtx.group_disk.forces_per_commit_node": 0.45,
    "dtx.group_disk.commits_per_s": 567,
    "zz.new_metric": 7,
}
RUN_AT = 1796644800  # 2026-12-07 12:00 UTC: when the sample "ran"
DOC = ("# Benchmarks\n\nText before, kept.\n\n%s\nold table\n| x | y |\n%s\n\n"
       "Text after, kept.\n" % (BEGIN, END))


def run(tmp_path, results=SAMPLE, doc=DOC):
    res = tmp_path / "results.json"
    res.write_text(json.dumps(results) if isinstance(results, dict)
                   else results)
    os.utime(res, (RUN_AT, RUN_AT))
    md = tmp_path / "bench.md"
    md.write_text(doc)
    r = subprocess.run([sys.executable, REPORT, str(res), str(md)],
                       capture_output=True, text=True, timeout=60)
    return r, md.read_text()


def rows(text, with_range=False):
    """{metric: (what, value)} of the table between the markers (and the
    runs' range, with_range)."""
    inside = text[text.index(BEGIN):text.index(END)]
    out = {}
    for line in inside.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            out[cells[0].strip("`")] = tuple(cells[1:4 if with_range else 3])
    return out


def test_table_from_results(tmp_path):
    r, text = run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "| metric | what | value |" in text
    assert "of the run of 2026-12-07 12:00 UTC." in text
    got = rows(text)
    assert set(got) == set(SAMPLE)
    assert got["ipc.null_rtt.instr"][1] == "2,000"
    assert got["ipc.stamp_overhead.ratio"][1] == "1.0123"
    assert got["rvm.flush.disk_writes_per_tx"][1] == "1"
    assert got["dtx.recov3.msgs"][1] == "8"
    assert got["dtx.readonly.forces"][1] == "4.5"
    assert got["dtx.cleanup_3node.instr"][1] == "6,000,000"
    assert got["dtx.group.forces_per_commit_node"][1] == "0.42"
    assert got["dtx.group.commits_per_s"][1] == "1,234"
    assert "group commit" in got["dtx.group.forces_per_commit_node"][0]
    assert "emulated disk" in got["dtx.group.forces_per_commit_node"][0]
    assert got["dtx.group_disk.forces_per_commit_node"][1] == "0.45"
    assert "0.5" in got["dtx.group_disk.forces_per_commit_node"][0]
    assert "requests a second" in got["dtx.group_disk.forces_per_commit_node"][0]
    assert "per second" in got["dtx.group.commits_per_s"][0]
    # every metric bench.py writes is described; others are shown, flagged
    assert "round trip" in got["ipc.null_rtt.instr"][0]
    assert "not described" in got["zz.new_metric"][0]
    assert "zz.new_metric has no description" in r.stderr
    # described metrics in report.py's order, undescribed ones last
    order = list(got)
    assert order[0] == "ipc.null_rtt.instr" and order[-1] == "zz.new_metric"


def test_only_the_table_changes(tmp_path):
    r, text = run(tmp_path)
    assert r.returncode == 0, r.stderr
    assert text.startswith("# Benchmarks\n\nText before, kept.\n\n" + BEGIN)
    assert text.endswith(END + "\n\nText after, kept.\n")
    assert "old table" not in text and "| x | y |" not in text
    assert text.count(BEGIN) == text.count(END) == 1


def test_rerun_is_stable(tmp_path):
    _, once = run(tmp_path)
    r, twice = run(tmp_path, doc=once)
    assert r.returncode == 0, r.stderr
    assert twice == once


def test_new_figures_replace_old(tmp_path):
    _, once = run(tmp_path)
    r, text = run(tmp_path, results={"ipc.null_rtt.instr": 1999}, doc=once)
    assert r.returncode == 0, r.stderr
    assert rows(text) == {"ipc.null_rtt.instr":
                          (rows(once)["ipc.null_rtt.instr"][0], "1,999")}


def test_refuses_without_markers(tmp_path):
    doc = "# Benchmarks\n\nno markers\n"
    r, text = run(tmp_path, doc=doc)
    assert r.returncode != 0
    assert "bench table: begin" in r.stderr
    assert "Traceback" not in r.stderr
    assert text == doc


def test_refuses_bad_results(tmp_path):
    for bad in ("not json", "[1, 2]", '{"a": "text"}', '{"a": true}'):
        r, text = run(tmp_path, results=bad)
        assert r.returncode != 0, bad
        assert "Traceback" not in r.stderr, bad
        assert text == DOC, bad


def test_docs_bench_md_has_the_markers():
    with open(os.path.join(ROOT, "docs", "bench.md")) as f:
        lines = f.read().split("\n")
    assert lines.count(BEGIN) == lines.count(END) == 1
    assert lines.index(BEGIN) < lines.index(END)


def test_group_commit_rows(tmp_path):
    """The group-commit figures: bench.py asks for them (and fails
    without them), report.py describes them."""
    r, text = run(tmp_path)
    assert r.returncode == 0, r.stderr
    what = {k: v[0] for k, v in rows(text).items()}
    with open(os.path.join(ROOT, "bench", "bench.py")) as f:
        bench = f.read()
    for key in ("dtx.group.forces_per_commit_node",
                "dtx.group.commits_per_s",
                "dtx.group_disk.forces_per_commit_node",
                "dtx.group_disk.commits_per_s"):
        assert what.get(key), key
        assert '"%s"' % key in bench, key
    # the slow disks' rate, which both say
    iops = re.search(r"^DISK_IOPS = (\d+)$", bench, re.M)
    assert iops, "bench.py's DISK_IOPS"
    assert ("complete %s requests a second" % iops.group(1)
            in what["dtx.group_disk.forces_per_commit_node"])
    # dtxbench prints the forces x100, bench.py divides them back
    assert "dtx.group.forces_per_commit_node_x100" in bench


def test_the_runs_range_where_they_differed(tmp_path):
    """spread.json beside results.json: [min, max] of a figure over make
    bench's runs, shown where they differed; the others' cell is empty."""
    (tmp_path / "spread.json").write_text(json.dumps({
        "dtx.group.commits_per_s": [1100, 1302],
        "dtx.readonly.forces": [4.25, 4.5]}))
    r, text = run(tmp_path)
    assert r.returncode == 0, r.stderr
    got = rows(text, with_range=True)
    assert got["dtx.group.commits_per_s"][1:] == ("1,234", "1,100 to 1,302")
    assert got["dtx.readonly.forces"][1:] == ("4.5", "4.25 to 4.5")
    assert got["ipc.null_rtt.instr"][2] == ""
    assert "| metric | what | value | runs' range |" in text


def test_a_bad_spread_file_is_refused(tmp_path):
    (tmp_path / "spread.json").write_text(json.dumps({"a.b": [1]}))
    r, text = run(tmp_path)
    assert r.returncode != 0 and "[min, max]" in r.stderr
    assert text == DOC  # left as it was
