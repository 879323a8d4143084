"""qsnet: run and drive a cluster of Quicksilver nodes in QEMU (i386, TCG).

The command line is qsnet.cli (launcher: tools/bin/qsnet); the test
harness (tests/system/qsharness.py) and the benchmark runner
(bench/bench.py) import this package. Modules:

  cluster  Cluster: nodes in a state dir, start/stop, waiting for a prompt
           and for the cluster to form, QMP, console and log per node
  lan      Lan: vde_switch, per-node hubs and wirefilters (link, netem)
  qemu     the QEMU command line, disk and persistent-memory images
  qmp      one QMP command on a monitor socket
  console  the serial console: prompt, typing, exec, relay, the log
  parsers  what the shell prints: tx, ps, mem, nodes
  tree     a transaction's tree from the nodes' tx/ps, drawn with dot
  screen   PPM screendumps as Screens, PNG writing
  host     unix sockets and pid files
  errors   QsnetError, QsnetTimeout, QsnetClosed
"""

from .cluster import DEFAULT_ISO, DEFAULT_STATE, ROOT, Cluster
from .console import ConsoleLog, prompt_regex
from .errors import QsnetClosed, QsnetError, QsnetTimeout
from .parsers import (TXID_RE, no_cm, parse_mem, parse_nodes, parse_ps,
                      parse_tx, ps_rows)
from .qemu import (DISK_SIZE, MEMORY_MB, PMEM_SIZE, make_storage, node_mac,
                   qemu_argv)
from .screen import Screen, ppm_to_png, read_ppm, write_png
from .tree import build_tree, render_dot, tree_dot, write_tree

__all__ = [
    "Cluster", "ConsoleLog", "DEFAULT_ISO", "DEFAULT_STATE", "DISK_SIZE",
    "MEMORY_MB", "PMEM_SIZE", "QsnetClosed", "QsnetError", "QsnetTimeout",
    "ROOT", "Screen", "TXID_RE", "build_tree", "make_storage", "no_cm",
    "node_mac", "parse_mem", "parse_nodes", "parse_ps", "parse_tx",
    "ppm_to_png", "prompt_regex", "ps_rows", "qemu_argv", "read_ppm",
    "render_dot", "tree_dot", "write_png", "write_tree",
]
