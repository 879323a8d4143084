"""The history checker (history.py) on made-up histories, no nodes: a good
one passes, and each way of breaking exactly once is caught: a request
answered twice or never, a stray answer, a value handed out twice, an
acknowledged request that ran before one acknowledged earlier, a
duplicate execution, a lost or mangled history line, acknowledged
requests that did not run, more runs than requests."""

import random

import pytest

from history import Client, check, fnv1a

LINE = 48
WINDOW = 8


def b36(v):
    s = ""
    while True:
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36] + s
        v //= 36
        if not v:
            return s


def emit(tag, recs, n, end=True, strays=(), noanswer=()):
    """hcount's output for records [(i, kind, v, w)] in answer order."""
    out = ["qs0> hc %s start node 0 inc 1 pid 9 base b00000000 n %d "
           "window %d line %d" % (tag, n, WINDOW, LINE)]
    lines = 0
    for k in range(0, len(recs), LINE):
        body = "hc %s h %d" % (tag, lines) + "".join(
            " %s%s%s/%s" % (b36(i), kind, b36(v), b36(w))
            for i, kind, v, w in recs[k:k + LINE])
        out.append("%s %08x" % (body, fnv1a(body)))
        lines += 1
    out += ["hc %s stray %d %d" % (tag, rid, st) for rid, st in strays]
    if noanswer:
        out.append("hc %s noanswer %s" % (tag, " ".join(map(str, noanswer))))
    if end:
        ok = sum(1 for r in recs if r[1] == "=")
        out.append("hc %s end sent %d answers %d ok %d errors %d stray %d "
                   "noanswer %d lines %d" % (
                       tag, n, len(recs), ok, len(recs) - ok, len(strays),
                       len(noanswer), lines))
    return "\n".join(out) + "\n"


def simulate(n, seed, errors=0.05, counter=None):
    """A pipelined client against a counter: requests sent in order, up to
    WINDOW outstanding, answered in a random order; some answers are
    errors (those ran or not, at random). Returns records and the
    counter's value."""
    rng = random.Random(seed)
    counter = counter if counter is not None else [0]
    recs, outstanding, nxt = [], [], 0
    while nxt < n or outstanding:
        if nxt < n and len(outstanding) < WINDOW and (
                not outstanding or rng.random() < 0.6):
            outstanding.append((nxt, len(outstanding)))
            nxt += 1
            continue
        i, w = outstanding.pop(rng.randrange(len(outstanding)))
        if rng.random() < errors:
            if rng.random() < 0.5:
                counter[0] += 1  # ran, but its answer was lost
            recs.append((i, "!", 17, w))
        else:
            counter[0] += 1
            recs.append((i, "=", counter[0], w))
    return recs, counter[0]


def verdict(log, state, tag="a", killed=False):
    return check([Client(tag, log, killed)], state)[0]


@pytest.fixture
def good():
    recs, value = simulate(1000, 1)
    return recs, value


def test_a_good_history_passes(good):
    recs, value = good
    assert verdict(emit("a", recs, 1000), (value, value, 0)) == []


def test_two_clients_one_counter():
    counter = [0]
    ra, _ = simulate(500, 2, counter=counter)
    rb, value = simulate(500, 3, counter=counter)
    log = emit("a", ra, 500) + emit("b", rb, 500)
    problems, summary = check([Client("a", log), Client("b", log)],
                              (value, value, 0))
    assert problems == [] and summary["answered"] == 1000


def test_duplicate_execution_is_caught(good):
    recs, value = good
    assert any("ran twice" in p for p in
               verdict(emit("a", recs, 1000), (value + 1, value, 1)))


def test_an_answer_twice_is_caught(good):
    recs, value = good
    recs = recs + [recs[10]]
    assert any("answered twice" in p for p in
               verdict(emit("a", recs, 1000), (value, value, 0)))


def test_an_answer_missing_is_caught(good):
    recs, value = good
    del recs[500]
    assert any("never answered" in p for p in
               verdict(emit("a", recs, 1000), (value, value, 0)))


def test_stray_and_silence_are_caught(good):
    recs, value = good
    assert any("stray" in p for p in verdict(
        emit("a", recs, 1000, strays=[(77, 0)]), (value, value, 0)))
    last = recs.pop()
    assert any("no answer" in p for p in verdict(
        emit("a", recs, 1000, noanswer=[last[0]]), (value, value, 0)))


def test_a_value_handed_out_twice_is_caught(good):
    recs, value = good
    oks = [k for k, r in enumerate(recs) if r[1] == "="]
    a, b = oks[100], oks[101]
    recs[b] = recs[b][:2] + (recs[a][2],) + recs[b][3:]
    assert any("handed out twice" in p for p in
               verdict(emit("a", recs, 1000), (value, value, 0)))


def test_real_time_order_is_checked():
    # request 1 was sent after request 0's answer (w 0) but got a lower value
    recs = [(0, "=", 2, 0), (1, "=", 1, 0)]
    assert any("acknowledged before it was sent" in p for p in
               verdict(emit("a", recs, 2), (2, 2, 0)))
    # sent while 0 was outstanding (w 1): any order is fine
    recs = [(0, "=", 2, 0), (1, "=", 1, 1)]
    assert verdict(emit("a", recs, 2), (2, 2, 0)) == []


def test_acknowledged_requests_that_did_not_run_are_caught(good):
    recs, value = good
    acked = sum(1 for r in recs if r[1] == "=")
    assert any("below the %d acknowledged" % acked in p for p in
               verdict(emit("a", recs, 1000), (acked - 1, acked - 1, 0)))


def test_more_runs_than_requests_are_caught(good):
    recs, value = good
    errors = sum(1 for r in recs if r[1] == "!")
    acked = len(recs) - errors
    top = acked + errors + 1
    assert any("above acknowledged" in p for p in
               verdict(emit("a", recs, 1000), (top, top, 0)))


def test_a_line_after_typed_echo_still_counts(good):
    """A test typing into the same console: the shell's echo of `kill 12`
    comes before a history line on its console line; the line is whole
    (the kernel takes a write whole), so it counts."""
    recs, value = good
    log = emit("a", recs, 1000).split("\n")
    log[3] = "kill 12" + log[3]
    assert verdict("\n".join(log), (value, value, 0)) == []


def test_a_lost_or_mangled_line_is_caught(good):
    recs, value = good
    log = emit("a", recs, 1000).split("\n")
    lost = "\n".join(log[:3] + log[4:])
    assert any("line lost" in p for p in verdict(lost, (value, value, 0)))
    mangled = list(log)
    mangled[3] = mangled[3].replace("=", "!", 1)
    assert any("checksum" in p for p in
               verdict("\n".join(mangled), (value, value, 0)))


def test_a_killed_client_leaves_a_bounded_unknown(good):
    recs, value = good
    cut = len(recs) // 2 // LINE * LINE
    kept = recs[:cut]
    log = emit("a", kept, 1000, end=False)
    # the requests it may have sent unrecorded: LINE - 1 + WINDOW at most
    c = Client("a", log, killed=True)
    assert c.unsure() == LINE - 1 + WINDOW
    seen = max(r[2] for r in kept if r[1] == "=")
    assert check([c], (seen, seen, 0))[0] == []
    assert any("above acknowledged" in p for p in
               check([c], (value, value, 0))[0])
