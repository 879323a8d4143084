"""The CM's wire as if every packet were hostile (servers/cm/README.md, "Bad
input"; docs/security.md, "Across nodes: the wire"), on three nodes.
wirefuzz (tests/guest/wirefuzz.c) forges packets and heartbeats through the
CM's raw-frame hook from a program holding raw-net, claiming any node,
phantom ones (ids 200 and up, kept up by their forged heartbeats) included.
One test per hole the CM had, each a forged packet that did damage before:
it is now refused, counted by kind in `net`, and does none; then the
structure-aware fuzzer, QS_WIRE_FUZZ_PACKETS packets (10,000; make stress
100,000) at node 1 from node 2 while node 0 increments a counter on node 1:
the counter's value equals its successes, no increment runs twice, every
kind of refusal moved, and the CM serves node 0 and node 2 afterwards. The
fuzzer seals what it forges with the cluster key, as an insider would, so
that its packets reach the parsing behind the seal; run again without the
key, its every packet is refused unread (seal). A node booted with another
key cannot join, be heard, or reach anything.

marktest (tests/guest/marktest.c) holds more transactions with recoverable
work on node 1 than the CMs' ring of 64 marks had room for."""

import os
import re

import pytest

from qsharness import PROG_TIMEOUT, Node, cluster_fixture
from test_counter import count, prog, reset, start_counterd, state, status
from test_net import members, wait_member
from test_remote import cluster_key, formed, net, sq_row
from test_remote import key as key_of

wire_cluster = cluster_fixture("test-nodes-wire", n=3)
PACKETS = int(os.environ.get("QS_WIRE_FUZZ_PACKETS", 10000))
SEED = int(os.environ.get("QS_WIRE_FUZZ_SEED", 1))
TIMEOUT = 60  # TCG on a busy machine: generous, and only ever waited on
REFUSED = re.compile(
    r"net: refused header (?P<header>\d+) length (?P<length>\d+) seq "
    r"(?P<seq>\d+) floor (?P<floor>\d+) incarnation (?P<inc>\d+) queue "
    r"(?P<queue>\d+) heartbeat (?P<heartbeat>\d+) seal (?P<seal>\d+) "
    r"replay (?P<replay>\d+)\n"
    r"net: marks-full (?P<marks_full>\d+) answers-held (?P<held>\d+) "
    r"lookups-limited (?P<lookups_limited>\d+)\n")
KINDS = ("header", "length", "seq", "floor", "inc", "queue", "heartbeat")


@pytest.fixture(scope="module")
def nodes(wire_cluster):
    return formed(wire_cluster)


@pytest.fixture(scope="module")
def counterd(nodes):
    return start_counterd(nodes[1])


def refused(node):
    """`net`'s refusals by kind, with `bad` and `stale`."""
    out = node.exec("net")
    m = REFUSED.search(out)
    assert m, out
    r = {k: int(v) for k, v in m.groupdict().items()}
    s = net(node)
    r.update(bad=s["bad"], stale=s["stale"])
    return r


def moved(before, after):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def wirefuzz(node, args, sealed_with_key=True):
    """wirefuzz ARGS on NODE; its packets sealed with the cluster's key
    unless KEY is False (then they are an outsider's)."""
    sealed = key_of(node.cluster) + " " if sealed_with_key else ""
    m, verdict, out = prog(node, "-r raw-net,admin wirefuzz " + sealed + args,
                           r"wirefuzz: (?:sent|delay|error|usage)[^\n]*\n")
    assert "error" not in m.group(0) and "usage" not in m.group(0), out
    assert status(verdict) == 0, out
    return m.group(0)


def inc_of(node, peer):
    """PEER's incarnation as NODE's CM has it."""
    m, _ = members(node)
    return m[peer]["inc"]


def echo(node, args):
    m, verdict, _ = prog(node, "echo " + args, r"echo: [^\n]*\n")
    return m.group(0).strip(), status(verdict)


def increments(node, n=200, window=16):
    """N increments on node 1's counter from NODE: all acknowledged, each
    once."""
    sent, acked, errors, _, _, errs = count(node, "-q counter@1 %d %d"
                                            % (n, window))
    assert (sent, acked, errors) == (n, n, 0), errs


def test_reply_whose_lengths_wrap_is_refused_and_the_client_answered(
        nodes, wire_cluster):
    """A REP whose inline and out-of-line lengths wrap in 32 bits to what
    the header says passed the length check, failed in qs_answer and
    left its client with no answer. Node 2 forges such REPs from node 1
    (its address) for every seq node 0 may have in flight to node 1,
    while node 1's cable is out: all are refused as lengths, and when the
    cable is back the real answer reaches the client, once."""
    n0, n1, n2 = nodes
    assert echo(n0, "-q echo@1 first") == ("echo: first", 0)  # the proxy
    inc0, inc1 = inc_of(n2, 0), inc_of(n2, 1)
    before = refused(n0)
    seqs = net(n0)["req_tx"] + 3  # node 0's seqs to node 1, the next too
    # the cut is shorter than CM_DOWN_MS (8 s): node 1 stays up for node 0
    wire_cluster.set_link(1, False)
    try:
        start = n0.log_size()
        pid = n0.run("echo -q echo@1 wrapped")
        # started after echo's request went out (it is sent at once)
        wirefuzz(n2, "pkt 0 rep src=1 sinc=%d dinc=%d seq=1 count=%d "
                 "mlen=16 mool=0xFFFFFFF0 data=0" % (inc1, inc0, seqs))
    finally:
        wire_cluster.set_link(1, True)
    # one answer, the real one (a forged one matched a seq in flight)
    n0.wait_log(r"echo: wrapped\n", TIMEOUT, start=start)
    out = n0.exec("wait %d" % pid)
    assert out.strip() == "pid %d exited with status 0" % pid, out
    assert n0.log(start).count("echo: ") == 1, n0.log(start)
    after = refused(n0)
    assert after["length"] - before["length"] >= 1, moved(before, after)
    assert net(n0)["inflight"] == 0


def test_floor_beyond_what_was_sent_is_refused(nodes, counterd):
    """A packet from node 0 whose floor is far beyond what node 0 could
    have sent made every later request of node 0's look like a duplicate
    (its clients hung). An ACK, a REP and a REQ with such floors, and a REQ
    whose floor covers itself: refused as floors; node 0's increments then
    run, each once."""
    n0, n1, n2 = nodes
    reset(n1)
    increments(n0, 20)
    inc0, inc1 = inc_of(n2, 0), inc_of(n2, 1)
    before = refused(n1)
    who = "src=0 sinc=%d dinc=%d" % (inc0, inc1)
    wirefuzz(n2, "pkt 1 ack %s seq=0 floor=0x7FFFFFFF" % who)
    wirefuzz(n2, "pkt 1 rep %s seq=1 floor=0xFFFFFF00" % who)
    wirefuzz(n2, "pkt 1 req %s seq=100000 floor=99999 qid=1" % who)
    wirefuzz(n2, "pkt 1 req %s seq=21 floor=21 qid=1" % who)
    # once they have come, node 0's requests run as before
    n1.poll("the forged floors refused", lambda: (
        refused(n1)["floor"] > before["floor"], moved(before, refused(n1))))
    increments(n0, 200)
    assert state(n1) == (220, 220, 0)
    after = refused(n1)
    assert after["floor"] == before["floor"] + 4, moved(before, after)


def test_incarnations_move_forward_by_a_plausible_step(nodes, counterd):
    """A heartbeat of node 0 with incarnation 0xFFFFFFFF, or with the next
    one while node 0 is heard, and a request of node 0's from a life it has
    not had, made node 1 take node 0 for restarted and refuse its real
    packets for good. Now they are refused (incarnation, heartbeat), and
    node 0 stays up, in its life, its requests running. A phantom node
    shows the rule: a step of one once it has been silent 1.5 s is a
    restart; a forged life stops mattering once it has been silent 8 s."""
    n0, n1, n2 = nodes
    m, _ = members(n1)
    inc0, restarts0 = m[0]["inc"], m[0]["restarts"]
    inc1 = inc_of(n2, 1)
    before = refused(n1)
    wirefuzz(n2, "hb 1 0 0xFFFFFFFF")
    wirefuzz(n2, "hb 1 0 %d" % (inc0 + 1))
    wirefuzz(n2, "pkt 1 req src=0 sinc=%d dinc=%d seq=1 qid=1"
             % (inc0 + 1, inc1))
    def come():
        r = refused(n1)
        return (r["heartbeat"] >= before["heartbeat"] + 2 and
                r["inc"] + r["stale"] > before["inc"] + before["stale"],
                moved(before, r))
    n1.poll("the forgeries to come", come)
    reset(n1)
    increments(n0, 100)
    assert state(n1) == (100, 100, 0)
    m, _ = members(n1)
    assert (m[0]["state"], m[0]["inc"], m[0]["restarts"]) == \
        ("up", inc0, restarts0), m
    after = refused(n1)
    assert after["inc"] == before["inc"] + 3, moved(before, after)
    assert after["heartbeat"] == before["heartbeat"] + 2, moved(before, after)

    # a phantom node's lives, as node 1 sees them
    ph = 210
    wirefuzz(n2, "hb 1 %d 5" % ph)
    wait_member(n1, ph, "up", 5)
    wirefuzz(n2, "hb 1 %d 0xFFFFFFFF" % ph)  # too far, and too soon
    wirefuzz(n2, "hb 1 %d 6" % ph)           # too soon: heard just now
    m, _ = members(n1)
    assert (m[ph]["inc"], m[ph]["restarts"]) == (5, 0), m
    wait_member(n1, ph, "suspect")
    wirefuzz(n2, "hb 1 %d 6" % ph)  # silent 1.5 s: a restart
    m = wait_member(n1, ph, "up", 6)
    assert m[ph]["restarts"] == 1, m
    wirefuzz(n2, "hb 1 %d 5" % ph)  # the life before: stale while 6 is heard
    m, _ = members(n1)
    assert m[ph]["inc"] == 6, m
    wait_member(n1, ph, "down")
    wirefuzz(n2, "hb 1 %d 5" % ph)  # 6 silent for 8 s: 5 is taken again
    m = wait_member(n1, ph, "up", 5)
    assert m[ph]["restarts"] == 2, m


def test_local_only_queues_cannot_be_reached_from_the_wire(nodes, counterd):
    """A REQ naming kernel.deaths (whose notices end transactions),
    tm.net, kernel.net, or a proxy on the receiving node was injected.
    Now it is refused (queue) and answered, never delivered: the queues'
    completed counts do not move; a REQ for the counter, from the same
    phantom node, runs. And a lookup of tm.net@1 finds nothing."""
    n0, n1, n2 = nodes
    text, st = echo(n0, "-q tm.net@1 hello")
    assert text.startswith("echo: no queue tm.net@1: ") and st == 1, text
    assert echo(n1, "-q echo@0 proxy") == ("echo: proxy", 0)  # a proxy on 1
    qids = [sq_row(n1, name)["qid"] for name in
            ("kernel.deaths", "tm.net", "kernel.net", "echo@0")]
    reset(n1)
    value = state(n1)[0]
    ph, inc1 = 211, inc_of(n2, 1)
    wirefuzz(n2, "hb 1 %d 3" % ph)
    wait_member(n1, ph, "up", 3)
    before, replies = refused(n1), net(n1)["rep_tx"]
    rows = {q: completed(n1, q) for q in qids}
    for seq, qid in enumerate(qids, 1):
        wirefuzz(n2, "pkt 1 req src=%d sinc=3 dinc=%d seq=%d qid=%d op=1 "
                 "data=48" % (ph, inc1, seq, qid))
    # all four answered (to the phantom), whether refused or delivered
    n1.poll("the four answers", lambda: (
        net(n1)["rep_tx"] >= replies + 4, net(n1)["rep_tx"] - replies))
    assert {q: completed(n1, q) for q in qids} == rows, n1.exec("sq")
    after = refused(n1)
    assert after["queue"] == before["queue"] + 4, moved(before, after)
    counter = sq_row(n1, "counter")["qid"]
    wirefuzz(n2, "pkt 1 req src=%d sinc=3 dinc=%d seq=5 qid=%d op=1 id=%d"
             % (ph, inc1, counter, 4242))
    n1.poll("the phantom's increment", lambda: (
        state(n1)[0] == value + 1, None))


def completed(node, qid):
    for line in node.exec("sq").splitlines()[1:]:
        f = line.split()
        if int(f[0]) == qid:
            return int(f[-1])
    return None


def test_answer_before_the_deferral_is_not_lost(nodes, counterd):
    """A forwarding thread sends the request, drops the CM's lock, and only
    then defers it: an answer that came in between went to a request not
    deferred yet, and was lost. With the CM's test hook widening that gap
    to 300 ms on node 0, every answer comes first: each is kept and given
    once the request is deferred (answers-held), and every increment is
    acknowledged once."""
    n0, n1, _ = nodes
    reset(n1)
    before = refused(n0)
    wirefuzz(n0, "delay 300")
    try:
        increments(n0, 40, 8)
    finally:
        wirefuzz(n0, "delay 0")
    assert state(n1) == (40, 40, 0)
    after = refused(n0)
    assert after["held"] - before["held"] >= 40, moved(before, after)


def test_marks_are_never_overwritten(nodes):
    """The CMs kept 64 recoverable marks in a ring: the 65th live one
    overwrote the first, and an answer for it no longer said recoverable
    (a tree with recoverable work below could commit in one phase). 80
    live transactions, each with a recoverable participant on node 1: both
    CMs hold 80 marks; all commit in two phases; the marks go."""
    n0, n1, _ = nodes
    for q in ("vn1", "vn2"):
        start = n1.log_size()
        n1.run("voteno yes %s" % q)
        n1.wait_log(r"%s: serving" % q, start=start)
    base0, base1 = net(n0)["marks"], net(n1)["marks"]
    two = two_phase(n0)
    m, verdict, out = prog(n0, "marktest 80 vn1@1 vn2@1",
                           r"marktest: (?:error[^\n]*|committed[^\n]*)\n")
    assert status(verdict) == 0, out
    held = re.search(r"marktest: holding 80 marks here (\d+) there (\d+)", out)
    assert held, out
    assert (int(held.group(1)), int(held.group(2))) == \
        (base0 + 80, base1 + 80), out
    assert refused(n0)["marks_full"] == refused(n1)["marks_full"] == 0
    assert two_phase(n0) == two + 80
    for n, base in ((n0, base0), (n1, base1)):
        n.poll("node %d's marks to go" % n.id,
               lambda: (net(n)["marks"] == base, net(n)["marks"]))


def two_phase(node):
    m = re.search(r"two-phase (\d+)", node.exec("tx stats"))
    return int(m.group(1))


def test_wire_fuzzer_leaves_the_cm_serving(nodes, counterd):
    """PACKETS fuzzed packets at node 1 from node 2 (phantom nodes' requests,
    replies, ACKs, lookups and finds with mutated fields and random bodies,
    and real nodes' heartbeats and packets with incarnations not theirs),
    while node 0 increments node 1's counter: its value equals its
    successes, nothing ran twice, every kind of refusal moved, node 0 and
    node 2 are still up in their lives, and both are served after."""
    n0, n1, n2 = nodes
    start = n1.log_size()
    n1.run("counterd -q fuzzctr")
    n1.wait_log(r"counterd: serving queue fuzzctr", start=start)
    names = ("fuzzctr", "echo", "kernel.deaths", "tm.net", "kernel.net", "cm")
    qids = " ".join(str(sq_row(n1, q)["qid"]) for q in names)
    reset(n1)
    before = refused(n1)
    m, _ = members(n1)
    lives = {p: (m[p]["inc"], m[p]["restarts"]) for p in (0, 2)}
    fstart = n2.log_size()
    fpid = n2.run("-r raw-net wirefuzz %s fuzz 1 %d %d %s"
                  % (key_of(n2.cluster), PACKETS, SEED, qids))
    incs = max(1000, PACKETS // 10)  # under way all through the fuzzing
    sent, acked, errors, value, st, errs = count(n0, "-q counter@1 %d 16"
                                                 % incs)
    fuzzed = n2.wait_log(r"wirefuzz: (?:sent \d+ packets[^\n]*|error[^\n]*)\n",
                         PROG_TIMEOUT + PACKETS / 100.0, start=fstart)
    assert fuzzed.group(0).startswith("wirefuzz: sent %d packets" % PACKETS), \
        n2.log(fstart)
    out = n2.exec("wait %d" % fpid)
    assert out.strip() == "pid %d exited with status 0" % fpid, out
    assert (sent, acked, errors) == (incs, incs, 0), errs
    assert state(n1) == (incs, incs, 0)
    after = refused(n1)
    print("fuzz %s; node 1 refused %s" % (fuzzed.group(0).strip(),
                                          moved(before, after)))
    for kind in KINDS:
        assert after[kind] > before[kind], (kind, moved(before, after))
    m, _ = members(n1)
    assert {p: (m[p]["inc"], m[p]["restarts"]) for p in (0, 2)} == lives, m
    assert m[0]["state"] == m[2]["state"] == "up", m
    reset(n1)
    increments(n0, 300)
    increments(n2, 300)
    assert state(n1) == (600, 600, 0)
    n1.alive()

    # the same fuzzer without the key: every packet is refused unread
    before = refused(n1)
    out = wirefuzz(n2, "fuzz 1 %d %d %s" % (max(1000, PACKETS // 10), SEED + 1,
                                            qids), sealed_with_key=False)
    increments(n0, 100)
    after = refused(n1)
    assert after["seal"] > before["seal"], moved(before, after)
    assert set(moved(before, after)) <= {"seal", "heartbeat", "bad"}, \
        (out, moved(before, after))
    assert state(n1) == (700, 700, 0)


def test_a_node_without_the_key_cannot_join_or_be_heard(nodes, wire_cluster,
                                                        tmp_path):
    """A fourth node on the same LAN with another key: the cluster refuses
    its every packet as seal and never lists it; it hears nobody; its
    requests reach nothing; the cluster goes on as before."""
    n0, n1, n2 = nodes
    other = tmp_path / "other.key"
    other.write_text("%064x\n" % (int(cluster_key(wire_cluster), 16) ^ 1))
    before = refused(n0)
    opts = dict(wire_cluster.options(0), key=str(other))
    opts.pop("argv", None)
    wire_cluster.start_node(3, opts)
    try:
        wire_cluster.wait_prompt(3, PROG_TIMEOUT)
        n3 = Node(wire_cluster, 3)
        # its heartbeats come (2 a second) and are refused, unread
        n0.poll("node 0 to refuse node 3's heartbeats",
                lambda: (refused(n0)["seal"] >= before["seal"] + 4,
                         moved(before, refused(n0))), TIMEOUT)
        assert 3 not in members(n0)[0] and 3 not in members(n1)[0]
        assert echo(n3, "-q echo@0 hello")[1] != 0  # nothing reached
        m3, _ = members(n3)
        assert all(p["state"] != "up" for k, p in m3.items() if k != 3), m3
        assert refused(n3)["seal"] > 0
    finally:
        wire_cluster.kill_node(3)
    increments(n0, 50)
    assert 3 not in members(n0)[0]


def test_one_client_cannot_fill_the_cms_lookup_table(nodes):
    """kernel.net takes lookups from any process: one that sends 16 remote
    lookups at once (names nobody has, so each stays a second) gets 4 under
    way and QS_ELIMIT for the rest, counted; meanwhile another client's
    lookup finds its queue."""
    n0, n1, _ = nodes
    start = n1.log_size()
    n1.run("counterd -q lookme")
    n1.wait_log(r"counterd: serving queue lookme", start=start)
    before = refused(n0)["lookups_limited"]
    m, verdict, out = prog(n0, "exhaust lookups 16 lookme@1",
                           r"exhaust: lookups: [^\n]*\n")
    assert m.group(0) == ("exhaust: lookups: 16 sent, 12 limited; lookme@1 "
                          "found by another client\n"), out
    assert status(verdict) == 0, out
    assert refused(n0)["lookups_limited"] == before + 12
