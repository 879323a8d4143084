"""Parsers of what the guest's shell prints, for the tool and the tests
alike: `tx`, `ps`, `mem` and `nodes`. Each skips lines that are not rows
of its table (headers, errors, `[kernel]` lines, what a background program
printed meanwhile), so a caller that must know the whole output parsed
compares counts."""

import re

TXID_RE = re.compile(r"\d+\.\d+\.\d+")
TX_PART_RE = re.compile(r"(-?\d+):([^\s()]+)(?:\(([^\s()]*)\))?")
PS_ROW_RE = re.compile(r"\s*(\d+)\s+(-?\d+)\s+(.+?)\s+(\S+)\s+(\d+)\s+(\d+)"
                       r"\s+(\d+)\s*")
MEM_PAGES_RE = re.compile(r"^pages: total (\d+), free (\d+), used (\d+)$", re.M)
MEM_HEAP_RE = re.compile(r"^kernel heap: (\d+) bytes$", re.M)
NODES_ROW_RE = re.compile(r"^\s*(\d+) 10\.0\.0\.\d+\s+(\S+)\s+(\d+)\s+(\d+) ms"
                          r"\s+(\d+)\s+(\d+)\s*$", re.M)
NODES_BAD_RE = re.compile(r"^bad packets (\d+)$", re.M)
# what the shell's network commands say on a node without a CM
NO_CM_RE = re.compile(r"^\w+: no communication manager", re.M)


def _node_or_none(word):
    return int(word) if re.fullmatch(r"\d+", word) else None


def parse_tx(text):
    """Rows of `tx` output: a list of dicts tx, owner (pid or None), coord,
    state, sup (node or None), subs (list of nodes), parts (list of dicts
    pid, cls, vote (None if none))."""
    rows = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6 or not TXID_RE.fullmatch(f[0]):
            continue
        if not re.fullmatch(r"-|-?\d+", f[1]) or not f[2].isdigit():
            continue
        if not re.fullmatch(r"-|\d+", f[4]) or \
                not re.fullmatch(r"-|\d+(,\d+)*", f[5]):
            continue
        parts = []
        for word in f[6:]:
            m = TX_PART_RE.fullmatch(word)
            if m:
                parts.append(dict(pid=int(m.group(1)), cls=m.group(2),
                                  vote=m.group(3) or None))
        owner = None if f[1] == "-" else int(f[1])
        rows.append(dict(tx=f[0], owner=owner if owner and owner > 0 else None,
                         coord=int(f[2]), state=f[3], sup=_node_or_none(f[4]),
                         subs=[] if f[5] == "-" else
                         [int(s) for s in f[5].split(",")],
                         parts=parts))
    return rows


def ps_rows(text):
    """Rows of `ps` output: a list of dicts pid, parent, name, state,
    threads, pages, ticks."""
    rows = []
    for line in text.splitlines():
        m = PS_ROW_RE.fullmatch(line)
        if m:
            pid, parent, name, state, threads, pages, ticks = m.groups()
            rows.append(dict(pid=int(pid), parent=int(parent), name=name,
                             state=state, threads=int(threads),
                             pages=int(pages), ticks=int(ticks)))
    return rows


def parse_ps(text):
    """`ps` output as {pid: program name}."""
    return {r["pid"]: r["name"] for r in ps_rows(text)}


def parse_mem(text):
    """`mem` output as a dict total, free, used (pages) and heap (the
    kernel heap's bytes), or None if it has not both lines."""
    pages, heap = MEM_PAGES_RE.search(text), MEM_HEAP_RE.search(text)
    if not (pages and heap):
        return None
    total, free, used = map(int, pages.groups())
    return dict(total=total, free=free, used=used, heap=int(heap.group(1)))


def parse_nodes(text):
    """`nodes` output (the CM's membership) as ({node: dict(state, inc,
    ago (ms since heard), heartbeats, restarts)}, bad packet count); the
    count is None if the output has no such line (no CM, an error)."""
    members = {int(m[0]): dict(state=m[1], inc=int(m[2]), ago=int(m[3]),
                               heartbeats=int(m[4]), restarts=int(m[5]))
               for m in NODES_ROW_RE.findall(text)}
    bad = NODES_BAD_RE.search(text)
    return members, int(bad.group(1)) if bad else None


def no_cm(text):
    """Whether a network command's output says the node runs no CM."""
    return bool(NO_CM_RE.search(text))
