"""The history checker of the Jepsen-style exactly-once test
(test_jepsen.py): parses what hcount (tests/guest/hcount.c) printed, and
checks it against the counter's final state (counterd, qs/counter.h).

A client's history is its `hc TAG ...` lines: the start (the ids' base,
how many requests), `h` lines of records in the order answered, each
record a request's index, its one answer (a value, or an error: outcome
unknown) and how many requests were outstanding when it was sent, and the
end (hcount's own counts). A client whose node was killed has no end: its
history is what reached the console before, and every request it did not
record is unknown.

Checked, for each client:
  - the history is whole: every `h` line's checksum holds and their
    numbers run from 0 without a gap (a mangled or lost line fails the
    check rather than being misread);
  - every request got exactly one answer: no index recorded twice, none
    left out below the highest (hcount sends in index order), no stray
    answer (an answer for no request outstanding), none unanswered
    (`noanswer`), and hcount's counts agree with the records;
  - no success without its value;
  - real-time order: a request sent after another was acknowledged got a
    higher value (it ran later; with records in answer order, the W of
    request I says which answers came before it was sent: the first I - W);
and over all clients, with the counter's state (value, ids, duplicates):
  - no request ran twice: duplicates == 0 and value == ids;
  - every acknowledged request ran exactly once: acknowledged values are
    all different (each execution makes its own value; one handed to two
    requests means an answer went to the wrong one), none beyond the final
    value, and acked <= value <= acked + unknown, where unknown counts
    error answers and requests a killed client never recorded.
"""

import re

# A line may follow anything on its console line: the shell's prompt
# (`qsN> `), printed as the client began, or what the shell echoed of a
# command a test typed meanwhile. The kernel takes each write whole
# (kernel/console.c), so nothing lands inside a line; a mangled one fails
# its checksum.
AT = r""
START = re.compile(AT + r"hc (\S+) start node (\d+) inc (\d+) pid (\d+) base "
                   r"([0-9a-f]+) n (\d+) window (\d+) line (\d+)$", re.M)
HLINE = re.compile(AT + r"(hc (\S+) h (\d+)((?: [0-9a-z]+[=!?][0-9a-z]+/"
                   r"[0-9a-z]+)*)) ([0-9a-f]{8})$", re.M)
STRAY = re.compile(AT + r"hc (\S+) stray (-?\d+) (-?\d+)$", re.M)
NOANSWER = re.compile(AT + r"hc (\S+) noanswer((?: \d+)*)$", re.M)
END = re.compile(AT + r"hc (\S+) end sent (\d+) answers (\d+) ok (\d+) errors "
                 r"(\d+) stray (\d+) noanswer (\d+) lines (\d+)$", re.M)
RECORD = re.compile(r"([0-9a-z]+)([=!?])([0-9a-z]+)/([0-9a-z]+)")


def fnv1a(text):
    h = 2166136261
    for b in text.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


class Client:
    """One run of hcount, parsed: records [(index, kind, value, w)] in the
    order answered."""

    def __init__(self, tag, log, killed=False):
        self.tag, self.killed = tag, killed
        self.problems = []
        self.records = []
        self.strays = []
        self.noanswer = []
        self.end = None
        t = re.escape(tag)
        starts = [m for m in START.finditer(log) if m.group(1) == tag]
        if len(starts) != 1:
            self.problems.append("%d start lines" % len(starts))
            self.n = 0
            self.base = None
            return
        s = starts[0]
        self.node, self.inc, self.pid = map(int, s.group(2, 3, 4))
        self.base, self.n = int(s.group(5), 16), int(s.group(6))
        self.window, self.line = int(s.group(7)), int(s.group(8))
        lines = [m for m in HLINE.finditer(log) if m.group(2) == tag]
        for k, m in enumerate(lines):
            if int(m.group(3)) != k:
                self.problems.append("history line %d where %d was due: a "
                                     "line lost" % (int(m.group(3)), k))
                break
            if fnv1a(m.group(1)) != int(m.group(5), 16):
                self.problems.append("history line %d fails its checksum"
                                     % k)
                break
            for r in RECORD.finditer(m.group(4)):
                self.records.append((int(r.group(1), 36), r.group(2),
                                     int(r.group(3), 36), int(r.group(4), 36)))
        self.lines = len(lines)
        # a line that looks like ours but did not parse: mangled
        ours = re.findall(AT + r"hc %s h .*$" % t, log, re.M)
        if len(ours) != len(lines) and not (killed and
                                            len(ours) == len(lines) + 1):
            self.problems.append("%d history lines do not parse"
                                 % (len(ours) - len(lines)))
        self.strays = [m.groups()[1:] for m in STRAY.finditer(log)
                       if m.group(1) == tag]
        for m in NOANSWER.finditer(log):
            if m.group(1) == tag:
                self.noanswer += [int(x) for x in m.group(2).split()]
        ends = [m for m in END.finditer(log) if m.group(1) == tag]
        if ends:
            self.end = tuple(map(int, ends[0].groups()[1:]))
        elif not killed:
            self.problems.append("no end line")

    def ids(self):
        return {self.base | i for i, _, _, _ in self.records}

    def ok_values(self):
        return [v for _, kind, v, _ in self.records if kind == "="]

    def errors(self):
        return sum(1 for r in self.records if r[1] != "=")

    def unsure(self):
        """If the client was killed: how many requests it may have sent
        beyond those it recorded. It had answers for at most LINE - 1
        more (the line it had not printed yet) and at most WINDOW
        outstanding beyond those (hcount sends in index order)."""
        if self.end is not None or self.base is None:
            return 0
        return min(self.n, len(self.records) + self.line - 1 +
                   self.window) - len(self.records)

    def unknown(self):
        """Requests whose outcome this client does not know: error
        answers, none at all, and those a killed client may have sent."""
        return self.errors() + len(self.noanswer) + self.unsure()

    def error_codes(self):
        codes = {}
        for _, kind, v, _ in self.records:
            if kind == "!":
                codes[-v] = codes.get(-v, 0) + 1
        return codes

    def check(self):
        """This client's own history; returns a list of problems."""
        p = ["%s: %s" % (self.tag, x) for x in self.problems]
        if self.base is None:
            return p
        seen = {}
        for pos, (i, kind, v, w) in enumerate(self.records):
            if i in seen:
                p.append("%s: request %d answered twice (answers %d and %d)"
                         % (self.tag, i, seen[i], pos))
            seen[i] = pos
            if i >= self.n:
                p.append("%s: request %d beyond n %d" % (self.tag, i, self.n))
            if kind == "?":
                p.append("%s: request %d succeeded with %d bytes, not the "
                         "value" % (self.tag, i, v))
            if kind == "=" and v == 0:
                p.append("%s: request %d acknowledged with value 0"
                         % (self.tag, i))
            if i - w > pos or w > i:
                p.append("%s: request %d sent with %d outstanding, answered "
                         "%dth: impossible" % (self.tag, i, w, pos))
        for i in self.noanswer:
            if i in seen:
                p.append("%s: request %d both answered and not"
                         % (self.tag, i))
            seen[i] = None
        top = max(seen) + 1 if seen else 0
        missing = sorted(set(range(top)) - set(seen))
        if missing and self.end is None:
            # killed: outstanding, or answered in the line not printed
            if len(missing) > self.unsure():
                p.append("%s: %d requests missing below %d, more than the "
                         "%d a killed client can leave unrecorded"
                         % (self.tag, len(missing), top, self.unsure()))
        elif missing:
            p.append("%s: %d requests below %d never answered, e.g. %s"
                     % (self.tag, len(missing), top, missing[:10]))
        if self.strays:
            p.append("%s: %d stray answers (an answer for no request "
                     "outstanding): %s" % (self.tag, len(self.strays),
                                            self.strays[:5]))
        if self.noanswer:
            p.append("%s: %d requests got no answer at all: %s"
                     % (self.tag, len(self.noanswer), self.noanswer[:10]))
        if self.end is not None:
            sent, answers, ok, errors, strays, noanswer, lines = self.end
            mine = (len(self.records), len(self.ok_values()), self.errors(),
                    len(self.strays), len(self.noanswer), self.lines)
            if (answers, ok, errors, strays, noanswer, lines) != mine:
                p.append("%s: hcount counted answers %d ok %d errors %d "
                         "stray %d noanswer %d lines %d; the history has %s"
                         % ((self.tag,) + self.end[1:] + (mine,)))
            if top != self.n:
                p.append("%s: ended after %d of %d requests"
                         % (self.tag, top, self.n))
        # real-time order: the first i - w answers came before i was sent
        best, before = 0, []
        for _, kind, v, _ in self.records:
            before.append(best)
            if kind == "=":
                best = max(best, v)
        before.append(best)
        for pos, (i, kind, v, w) in enumerate(self.records):
            if kind == "=" and 0 <= i - w <= pos and v <= before[i - w]:
                p.append("%s: request %d got value %d, but a request "
                         "acknowledged before it was sent had %d already"
                         % (self.tag, i, v, before[i - w]))
        return p


def check(clients, state):
    """All clients' histories against the counter's state (value, ids,
    duplicates) after them; returns (problems, summary dict)."""
    value, ids, duplicates = state
    problems = []
    for c in clients:
        problems += c.check()
    acked = sum(len(c.ok_values()) for c in clients)
    unknown = sum(c.unknown() for c in clients)
    values = sorted(v for c in clients for v in c.ok_values())
    dup_values = [a for a, b in zip(values, values[1:]) if a == b]
    if dup_values:
        problems.append("%d acknowledged values handed out twice, e.g. %s"
                        % (len(dup_values), dup_values[:10]))
    if values and values[-1] > value:
        problems.append("a request was acknowledged with value %d, beyond "
                        "the counter's final %d" % (values[-1], value))
    if duplicates:
        problems.append("the counter saw %d increments again: a request "
                        "ran twice" % duplicates)
    if value != ids + duplicates:
        problems.append("the counter's value %d is not ids %d + duplicates "
                        "%d" % (value, ids, duplicates))
    if value < acked:
        problems.append("the counter's value %d is below the %d acknowledged "
                        "increments: acknowledged requests did not run"
                        % (value, acked))
    if value > acked + unknown:
        problems.append("the counter's value %d is above acknowledged %d + "
                        "unknown %d: requests ran that nobody sent, or twice"
                        % (value, acked, unknown))
    codes = {}
    for c in clients:
        for code, k in c.error_codes().items():
            codes[code] = codes.get(code, 0) + k
    summary = dict(clients=len(clients), answered=sum(len(c.records)
                                                      for c in clients),
                   acked=acked, unknown=unknown, errors=codes,
                   killed=sum(1 for c in clients if c.end is None),
                   value=value, ids=ids, duplicates=duplicates)
    return problems, summary
