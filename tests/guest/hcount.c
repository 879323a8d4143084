/*
 * hcount: count (apps/count.c) that keeps a history, for the Jepsen-style
 * test (tests/system/test_jepsen.py, checked by tests/system/history.py).
 *
 *   hcount [-q QUEUE] [-r RATE] TAG N WINDOW
 *
 * sends N increments (qs/counter.h) with up to WINDOW (1-256) outstanding,
 * at most RATE a second on average if RATE is given (request I is not sent
 * before I/RATE s after the start; one held back catches up at once), and
 * prints, for every request, the one answer it got. TAG (a short word
 * without spaces) names this client in every line it prints:
 *
 *   hc TAG start node N inc I pid P base HEX n N window W line R
 *   hc TAG h SEQ REC REC ... CRC      records, in the order answered
 *   hc TAG stray RID STATUS           an answer for no request outstanding
 *   hc TAG end sent S answers A ok K errors E stray X noanswer U lines L
 *
 * R is how many records make a line (so a client killed with records not
 * yet printed had at most R - 1 of them, and WINDOW more outstanding). A
 * record is `I=V/W` (request I, the id's index, answered with value V),
 * `I!E/W` (answered with error -E: the outcome is unknown) or `I?L/W`
 * (answered with success but L bytes instead of the value), numbers in
 * base 36; W is how many requests were outstanding when I was sent, so
 * that, with records in the order answered, the checker knows which
 * answers came before each request was sent (the history's real-time
 * order, exact, on this client's one thread). A refused qs_send is an
 * error answer too. SEQ counts the `h` lines from 0; CRC is the FNV-1a
 * hash (hex) of the line from `hc` up to the space before it, so a line
 * the console mangled or lost is detected, never misread. Request I has
 * the id BASE | I.
 *
 * A request still unanswered WAIT_MS after the last answer is counted in
 * `noanswer` (and listed, `hc TAG noanswer I...`); hcount then stops. After
 * an error answer it waits BACKOFF_MS before sending again, and then sends
 * one request at a time until one succeeds, as a client would with a
 * server it cannot reach, so that a partition costs a few requests rather
 * than all of them. Exit 0 iff every request sent got an
 * answer and no stray came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/counter.h>
#include <qs/sq.h>
#include <qs/sys.h>

#define WINDOW_MAX QS_SQ_ASYNC_MAX
#define N_MAX ((1L << 24) - 1) /* i has 24 bits of the id (qs/counter.h) */
#define WAIT_MS 120000         /* CM_DOWN_MS is 8 s: far beyond any answer */
#define BACKOFF_MS 100         /* after an error answer */
#define RETRY_MS 10            /* a full queue with nothing of ours in it */
#define LINE_RECS 48           /* records per history line */

static qs_msg_t req, reply;
static const char *tag;
static uint32_t answers, ok, errors, strays, lines;

static struct slot {
	int rid; /* 0: free */
	uint32_t i, w;
} slots[WINDOW_MAX];

static char line[LINE_RECS * 40 + 128];
static size_t line_len;
static int line_recs;

static uint32_t
fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < n; k++) {
		h ^= (uint8_t)s[k];
		h *= 16777619u;
	}
	return h;
}

static size_t
base36(char *out, uint64_t v)
{
	char tmp[16];
	size_t n = 0, k = 0;
	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v);
	while (n)
		out[k++] = tmp[--n];
	return k;
}

static void
flush(void)
{
	if (line_recs == 0)
		return;
	uint32_t h = fnv1a(line, line_len);
	snprintf(line + line_len, sizeof(line) - line_len, " %08x\n",
		 (unsigned)h);
	printf("%s", line);
	lines++;
	line_recs = 0;
	line_len = 0;
}

/* One record: request i, sent with w outstanding, answered with kind
 * ('=' value, '!' error -v, '?' a success of v bytes). */
static void
record(uint32_t i, char kind, uint64_t v, uint32_t w)
{
	if (line_recs == 0)
		line_len = (size_t)snprintf(line, sizeof(line), "hc %s h %u", tag,
					    (unsigned)lines);
	line[line_len++] = ' ';
	line_len += base36(line + line_len, i);
	line[line_len++] = kind;
	line_len += base36(line + line_len, v);
	line[line_len++] = '/';
	line_len += base36(line + line_len, w);
	answers++;
	if (kind == '=')
		ok++;
	else
		errors++;
	if (++line_recs == LINE_RECS)
		flush();
}

static void
answer(uint32_t i, uint32_t w, const qs_msg_t *m)
{
	int32_t st = m->hdr.status;
	if (st == 0 && m->hdr.len == sizeof(uint64_t)) {
		uint64_t v;
		memcpy(&v, m->data, sizeof(v));
		record(i, '=', v, w);
	} else if (st == 0) {
		record(i, '?', m->hdr.len, w);
	} else {
		record(i, '!', (uint64_t)-(int64_t)st, w);
	}
}

int
main(int argc, char **argv)
{
	const char *name = COUNTER_QUEUE;
	long n, window, rate = 0;
	int a = 1;
	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		if (strcmp(argv[a], "-q") == 0)
			name = argv[a + 1];
		else if (strcmp(argv[a], "-r") != 0 ||
			 qs_parse_int(argv[a + 1], &rate) < 0 || rate < 0 ||
			 rate > 1000000)
			a = argc; /* usage */
	}
	if (argc - a != 3 || qs_parse_int(argv[a + 1], &n) < 0 || n < 0 ||
	    n > N_MAX || qs_parse_int(argv[a + 2], &window) < 0 || window < 1 ||
	    window > WINDOW_MAX || strlen(argv[a]) > 16 ||
	    strchr(argv[a], ' ')) {
		printf("usage: hcount [-q QUEUE] [-r RATE] TAG N WINDOW\n");
		return 2;
	}
	tag = argv[a];
	uint32_t n32 = (uint32_t)n, win = (uint32_t)window;

	int qid = qs_sq_lookup(name);
	if (qid < 0) {
		printf("hc %s lookup %s: %s\n", tag, name, qs_strerror(qid));
		return 1;
	}
	qs_node_info_t ni = { 0 };
	qs_node_info(&ni);
	uint64_t base = (uint64_t)(ni.node_id & 0xffff) << 48 |
			(uint64_t)(qs_getpid() & 0xffff) << 32 |
			(uint64_t)(ni.incarnation & 0xff) << 24;
	printf("hc %s start node %u inc %u pid %d base %llx n %ld window %ld "
	       "line %d\n",
	       tag, (unsigned)ni.node_id, (unsigned)ni.incarnation, qs_getpid(),
	       (unsigned long long)base, n, window, LINE_RECS);

	uint32_t next = 0, outstanding = 0, sent = 0, noanswer = 0;
	uint32_t full_since = 0, backoff_until = 0, probing = 0;
	uint32_t t0 = qs_uptime_ms(), last_answer = t0;

	while (next < n32 || outstanding > 0) {
		uint32_t now = qs_uptime_ms();
		/* what holds the next request back: an error just now, or the
		 * pace (request i is due RATE per second after the start) */
		uint32_t wake = 0;
		if ((int32_t)(backoff_until - now) > 0)
			wake = backoff_until;
		else if (rate && next < n32) {
			uint32_t due = t0 + (uint32_t)((uint64_t)next * 1000 / rate);
			if ((int32_t)(due - now) > 0)
				wake = due;
		}
		/* after an error, one request at a time until one succeeds */
		uint32_t room = probing ? 1 : win;
		if (next < n32 && outstanding < room && !wake) {
			counter_inc_t inc = { base | next };
			qs_msg_init(&req, COUNTER_OP_INC);
			qs_msg_put(&req, &inc, sizeof(inc));
			int r = qs_send(qid, &req);
			if (r > 0) {
				struct slot *s = slots;
				while (s->rid)
					s++; /* outstanding < window: one is free */
				s->rid = r;
				s->i = next++;
				s->w = outstanding++;
				sent++;
				full_since = 0;
				if (outstanding == 1)
					last_answer = now;
				continue;
			}
			if (r != QS_EAGAIN && r != QS_ELIMIT) {
				/* refused: an answer, and an error one */
				record(next++, '!', (uint64_t)-(int64_t)r,
				       outstanding);
				backoff_until = now + BACKOFF_MS;
				probing = 1;
				continue;
			}
		}
		if (outstanding == 0) {
			if (wake) {
				qs_sleep(wake - now);
				continue;
			}
			/* full of others' requests: ours has to wait its turn */
			if (!full_since)
				full_since = now;
			if (now - full_since > WAIT_MS) {
				for (; next < n32; next++)
					record(next, '!', (uint64_t)-QS_EAGAIN, 0);
				break;
			}
			qs_sleep(RETRY_MS);
			continue;
		}
		int32_t wait = (int32_t)(last_answer + WAIT_MS - now);
		if (wake && next < n32 && outstanding < room &&
		    (int32_t)(wake - now) < wait)
			wait = (int32_t)(wake - now);
		if (wait <= 0) {
			/* no answer for WAIT_MS: never silence, says the CM */
			flush();
			printf("hc %s noanswer", tag);
			for (struct slot *s = slots; s < slots + WINDOW_MAX; s++)
				if (s->rid) {
					printf(" %u", (unsigned)s->i);
					noanswer++;
				}
			printf("\n");
			break;
		}
		int rid = qs_wait(0, &reply, sizeof(reply), wait);
		if (rid == QS_ETIMEDOUT)
			continue;
		if (rid < 0) {
			printf("hc %s wait: %s\n", tag, qs_strerror(rid));
			break;
		}
		last_answer = qs_uptime_ms();
		struct slot *s = slots;
		while (s < slots + WINDOW_MAX && s->rid != rid)
			s++;
		if (s == slots + WINDOW_MAX) {
			flush();
			printf("hc %s stray %d %d\n", tag, rid,
			       (int)reply.hdr.status);
			strays++;
			continue;
		}
		answer(s->i, s->w, &reply);
		s->rid = 0;
		outstanding--;
		if (reply.hdr.status != 0) {
			backoff_until = last_answer + BACKOFF_MS;
			probing = 1;
		} else {
			probing = 0;
		}
	}
	flush();
	printf("hc %s end sent %u answers %u ok %u errors %u stray %u "
	       "noanswer %u lines %u\n",
	       tag, (unsigned)sent, (unsigned)answers, (unsigned)ok,
	       (unsigned)errors, (unsigned)strays, (unsigned)noanswer,
	       (unsigned)lines);
	return noanswer == 0 && strays == 0 && answers == next ? 0 : 1;
}
