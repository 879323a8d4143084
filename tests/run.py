#!/usr/bin/env python3
"""Runs every suite (host unit tests, then the pytest system tests that boot
nodes and run the in-guest test programs) and ends with one line,
'N passed, N failed', totalled over all of them. Exit status 1 if anything
failed."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
PYTEST_COUNTS = re.compile(r"(\d+) (passed|failed|error|errors)\b")


def run_unit(binary):
    proc = subprocess.run([binary], cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    m = SUMMARY.match(lines[-1]) if lines else None
    if not m:
        print(f"{binary}: no summary line (exit {proc.returncode})")
        return 0, 1
    passed, failed = int(m.group(1)), int(m.group(2))
    if proc.returncode != 0 and failed == 0:
        failed = 1  # a sanitizer or crash after the summary
    return passed, failed


def run_pytest():
    cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-rfE", "--durations=25",
           "tests/system"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    last = ""
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.strip():
            last = line
    proc.wait()
    counts = {"passed": 0, "failed": 0}
    for n, kind in PYTEST_COUNTS.findall(last):
        counts["passed" if kind == "passed" else "failed"] += int(n)
    if proc.returncode not in (0, 1) and counts["failed"] == 0:
        counts["failed"] = 1  # pytest itself broke, or collected nothing
    return counts["passed"], counts["failed"]


def main():
    total_passed = total_failed = 0
    for binary in sys.argv[1:]:
        print(f"== {binary}")
        p, f = run_unit(binary)
        total_passed += p
        total_failed += f
    print("== system tests (pytest)")
    p, f = run_pytest()
    total_passed += p
    total_failed += f
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
