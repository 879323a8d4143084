"""Transaction trees (`qsnet tree`): build_tree joins the nodes' records of
one transaction (their `tx` and `ps` output, read by the parsers), tree_dot
writes it for Graphviz and render_dot runs `dot -Tpng`. Pure but for the
drawing, so that the host tests can feed them canned shell output;
Cluster.tx_outputs collects the real one."""

import subprocess

from .errors import QsnetError
from .parsers import parse_ps, parse_tx

# fill colours of the node clusters by state; other states are grey
STATE_COLOURS = {"active": "#cfe2ff", "preparing": "#fff3b0",
                 "prepared": "#ffd8a8", "committed": "#c9f2c7",
                 "aborted": "#ffc9c9"}


def build_tree(txid, outputs):
    """One transaction's tree from OUTPUTS, {node: (tx output, ps output)}.
    Returns None if no node has a record of TXID, else a dict: tx, nodes
    {node: dict(node, state, coord, coordinator (bool), root (bool), sup,
    subs, owner, procs)} where procs lists dict(pid, name, cls, vote, owner)
    (participants, then the owner if it is none), and edges, sorted
    (superior, subordinate) pairs between nodes that have a record."""
    nodes = {}
    for n in sorted(outputs):
        tx_text, ps_text = outputs[n]
        row = next((r for r in parse_tx(tx_text) if r["tx"] == txid), None)
        if row is None:
            continue
        names = parse_ps(ps_text or "")
        procs = [dict(pid=p["pid"], name=names.get(p["pid"], "?"),
                      cls=p["cls"], vote=p["vote"], owner=p["pid"] == row["owner"])
                 for p in row["parts"]]
        if row["owner"] is not None and not any(p["owner"] for p in procs):
            procs.append(dict(pid=row["owner"],
                              name=names.get(row["owner"], "?"),
                              cls=None, vote=None, owner=True))
        nodes[n] = dict(node=n, state=row["state"], coord=row["coord"],
                        coordinator=row["coord"] == n, sup=row["sup"],
                        subs=row["subs"], owner=row["owner"], procs=procs)
    if not nodes:
        return None
    edges = set()
    for n, r in nodes.items():
        if r["sup"] is not None:
            edges.add((r["sup"], n))
        edges.update((n, s) for s in r["subs"])
    edges = sorted((a, b) for a, b in edges
                   if a != b and a in nodes and b in nodes)
    for n, r in nodes.items():  # no superior among the records: a root
        r["root"] = r["sup"] is None or r["sup"] not in nodes
    return dict(tx=txid, nodes=nodes, edges=edges)


def _dot_str(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"') \
        .replace("\n", "\\n")


def tree_dot(tree):
    """Graphviz source for a tree from build_tree: one cluster per node,
    one box per process, edges superior -> subordinate (the root on top)."""
    out = ["digraph tx {",
           "  label=%s; labelloc=t; fontsize=20; fontname=\"Helvetica-Bold\";"
           % _dot_str("transaction " + tree["tx"]),
           "  compound=true; rankdir=TB; nodesep=0.4; ranksep=0.8;",
           "  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
           "fontname=Helvetica, fontsize=11];",
           "  edge [fontname=Helvetica, fontsize=10];"]
    anchor = {}
    for n, r in sorted(tree["nodes"].items()):
        roles = [w for w, yes in (("root", r["root"]),
                                  ("coordinator", r["coordinator"])) if yes]
        label = "node %d: %s" % (n, r["state"])
        if roles:
            label += "\n" + ", ".join(roles)
        if not r["coordinator"]:
            label += "\ncoordinator: node %d" % r["coord"]
        out += ["  subgraph cluster_n%d {" % n,
                "    label=%s; style=\"rounded,filled\"; fillcolor=%s; "
                "fontname=\"Helvetica-Bold\"; fontsize=13; penwidth=%d;"
                % (_dot_str(label), _dot_str(STATE_COLOURS.get(r["state"],
                                                               "#e0e0e0")),
                   3 if r["root"] else 1)]
        procs = r["procs"] or [None]
        for i, p in enumerate(procs):
            name = "n%d_p%d" % (n, i)
            anchor.setdefault(n, name)
            if p is None:
                out.append("    %s [label=\"no participants\", style=dashed];"
                           % name)
                continue
            lines = ["%s (pid %d)" % (p["name"], p["pid"])]
            if p["cls"] is None:
                lines.append("owner, not a participant")
            else:
                lines.append(p["cls"] + (", owner" if p["owner"] else ""))
                lines.append("vote: %s" % (p["vote"] or "-"))
            style = "\"rounded,filled,dashed\"" if p["cls"] is None else \
                "\"rounded,filled\""
            out.append("    %s [label=%s, style=%s];"
                       % (name, _dot_str("\n".join(lines)), style))
        out.append("  }")
    for a, b in tree["edges"]:
        out.append("  %s -> %s [ltail=cluster_n%d, lhead=cluster_n%d, "
                   "label=%s, penwidth=2];"
                   % (anchor[a], anchor[b], a, b,
                      _dot_str(" superior %d\n subordinate %d" % (a, b))))
    out.append("}")
    return "\n".join(out) + "\n"


def render_dot(dot_text, png_path):
    """Run `dot -Tpng` on DOT_TEXT into PNG_PATH."""
    try:
        r = subprocess.run(["dot", "-Tpng", "-o", png_path], input=dot_text,
                           capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise QsnetError("dot not found: install graphviz (scripts/deps.sh)")
    if r.returncode != 0:
        raise QsnetError("dot failed: %s" % r.stderr.strip())


def write_tree(tree, png_path):
    """Write the tree's .dot next to PNG_PATH and render it; returns
    (png path, dot path)."""
    base = png_path[:-4] if png_path.lower().endswith(".png") else png_path
    dot_path = base + ".dot"
    text = tree_dot(tree)
    with open(dot_path, "w") as f:
        f.write(text)
    render_dot(text, png_path)
    return png_path, dot_path
