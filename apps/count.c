/*
 * count, the client of counterd (qs/counter.h): N increments, pipelined.
 *
 *   count [-q QUEUE] N [WINDOW]   N increments (below 2^24), up to WINDOW
 *                                 (32; at most 256) outstanding at once
 *   count [-q QUEUE] -bad         malformed requests, which must all get
 *                                 QS_EINVAL (QS_ENOSYS: unknown opcodes),
 *                                 then a GET that must work
 *   count [-q QUEUE] -dup         two ids sent twice each (one of them 0):
 *                                 the server must count 2 duplicates
 *
 * It ends with `count: sent S acked A errors E value V`: S requests went
 * out, A were answered with status 0, E failed (a refused send or an
 * error answer), V is the server's value afterwards. Exit 0 iff E == 0.
 *
 * Every request gets exactly one answer, so count simply waits for them,
 * but no wait lasts more than WAIT_MS: should one run out, every request
 * still outstanding is counted as an error (timed out) and count sends no
 * more (then S < N). The per-process limits on outstanding requests
 * (QS_EAGAIN, QS_ELIMIT) and a full queue (QS_EAGAIN) are not errors: count collects an answer (or,
 * with none outstanding, sleeps briefly) and sends again; only a queue
 * kept full by others for WAIT_MS makes the increments not yet sent
 * errors (QS_EAGAIN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/counter.h>
#include <qs/sq.h>
#include <qs/sys.h>

#define WINDOW_DEFAULT 32
#define WINDOW_MAX QS_SQ_ASYNC_MAX
#define N_MAX ((1L << 24) - 1) /* i has 24 bits of the id (qs/counter.h) */
#define WAIT_MS 120000         /* TCG on a busy host, or a remote server */
#define RETRY_MS 10            /* a full queue with nothing of ours in it */
#define CODES_MAX 4            /* distinct error codes to report */

static qs_msg_t req, reply;
static uint32_t acked, errors;
static struct {
	int code;
	uint32_t times;
} codes[CODES_MAX];

static void
error_add(int code, uint32_t times)
{
	errors += times;
	for (int i = 0; i < CODES_MAX; i++) {
		if (codes[i].times == 0)
			codes[i].code = code;
		if (codes[i].code == code) {
			codes[i].times += times;
			return;
		}
	}
}

static void
errors_print(void)
{
	for (int i = 0; i < CODES_MAX && codes[i].times; i++)
		printf("count: error %d (%s) x%u\n", codes[i].code,
		       qs_strerror(codes[i].code), (unsigned)codes[i].times);
}

/* Collects one answer; returns < 0 if the wait itself failed. */
static int
collect(void)
{
	int r = qs_wait(0, &reply, sizeof(reply), WAIT_MS);
	if (r < 0)
		return r;
	if (reply.hdr.status == 0 && reply.hdr.len == sizeof(uint64_t))
		acked++;
	else
		error_add(reply.hdr.status < 0 ? reply.hdr.status : QS_EINVAL, 1);
	return 0;
}

/* The increments; returns how many requests went out. */
static uint32_t
run(int qid, uint32_t n, uint32_t window)
{
	qs_node_info_t ni = { 0 };
	qs_node_info(&ni);
	uint64_t base = (uint64_t)(ni.node_id & 0xffff) << 48 |
			(uint64_t)(qs_getpid() & 0xffff) << 32 |
			(uint64_t)(ni.incarnation & 0xff) << 24;
	uint32_t next = 0, outstanding = 0, sent = 0;
	uint32_t full_since = 0;

	while (next < n || outstanding > 0) {
		int r = QS_EAGAIN;
		if (next < n && outstanding < window) {
			counter_inc_t inc = { base | next };
			qs_msg_init(&req, COUNTER_OP_INC);
			qs_msg_put(&req, &inc, sizeof(inc));
			r = qs_send(qid, &req);
			if (r > 0) {
				next++, sent++, outstanding++;
				full_since = 0;
				continue;
			}
			if (r == QS_ELIMIT)
				r = QS_EAGAIN; /* our own limit: collect first */
			if (r != QS_EAGAIN) {
				error_add(r, 1);
				next++;
				continue;
			}
		}
		if (outstanding == 0) {
			/* full of others' requests: ours has to wait its turn */
			uint32_t now = qs_uptime_ms();
			if (!full_since)
				full_since = now;
			if (now - full_since > WAIT_MS) {
				error_add(QS_EAGAIN, n - next);
				break;
			}
			qs_sleep(RETRY_MS);
			continue;
		}
		if ((r = collect()) < 0) {
			error_add(r, outstanding);
			break; /* not knowing when the rest will come, stop */
		}
		outstanding--;
	}
	return sent;
}

/* Malformed requests: each must be refused, with QS_EINVAL or, for an
 * unknown opcode, QS_ENOSYS. */
static int
bad_requests(int qid)
{
	static const uint8_t junk[12] = { 1, 2, 3 };
	static const struct {
		uint32_t op, len, ool;
		int32_t want;
	} cases[] = {
		{ COUNTER_OP_INC, 0, 0, QS_EINVAL },
		{ COUNTER_OP_INC, 4, 0, QS_EINVAL },
		{ COUNTER_OP_INC, 12, 0, QS_EINVAL },
		{ COUNTER_OP_INC, 8, 1, QS_EINVAL },
		{ COUNTER_OP_GET, 1, 0, QS_EINVAL },
		{ COUNTER_OP_RESET, 8, 0, QS_EPERM }, /* who, before sizes */
		{ 0, 0, 0, QS_ENOSYS },
		{ 99, 8, 0, QS_ENOSYS },
	};
	int n = (int)(sizeof(cases) / sizeof(cases[0])), refused = 0;

	for (int i = 0; i < n; i++) {
		qs_msg_init(&req, cases[i].op);
		qs_msg_put(&req, junk, cases[i].len);
		if (cases[i].ool)
			qs_msg_set_ool(&req, junk, sizeof(junk));
		int r = qs_call(qid, &req, &reply, sizeof(reply));
		if (r == cases[i].want)
			refused++;
		else
			printf("count: error bad request %d (op %u len %u): got %d "
			       "(%s)\n", i, (unsigned)cases[i].op,
			       (unsigned)cases[i].len, r, qs_strerror(r));
	}
	qs_msg_init(&req, COUNTER_OP_GET);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	printf("count: bad requests refused %d of %d, then get: %s\n", refused,
	       n, qs_strerror(r));
	return refused == n && r == 0 ? 0 : 1;
}

/* The same ids twice, on purpose: the server's duplicate detection. */
static int
dup_requests(int qid)
{
	static const uint64_t ids[] = { 0, 0xd0d0d0d0d0d0d0d0ull };
	uint32_t dups0 = 0, failed = 0;

	/* the first round may meet ids an earlier -dup left: count from it */
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 2; k++) {
			counter_inc_t inc = { ids[k] };
			qs_msg_init(&req, COUNTER_OP_INC);
			qs_msg_put(&req, &inc, sizeof(inc));
			failed += qs_call(qid, &req, &reply, sizeof(reply)) != 0;
		}
		qs_msg_init(&req, COUNTER_OP_GET);
		int r = qs_call(qid, &req, &reply, sizeof(reply));
		const counter_state_t *s = QS_MSG_AS(&reply, counter_state_t);
		if (r != 0 || !s) {
			failed++;
			break;
		}
		if (round == 0)
			dups0 = s->duplicates;
		else
			printf("count: duplicates sent 2 counted %u, errors %u\n",
			       (unsigned)(s->duplicates - dups0), (unsigned)failed);
	}
	return failed != 0;
}

static int
usage(void)
{
	printf("usage: count [-q QUEUE] N [WINDOW] | "
	       "count [-q QUEUE] -bad|-dup\n");
	return 2;
}

/* An argument from lo to hi, or -1. */
static long
number(const char *s, long lo, long hi)
{
	long v;
	if (qs_parse_int(s, &v) < 0 || v < lo || v > hi)
		return -1;
	return v;
}

int
main(int argc, char **argv)
{
	const char *name = COUNTER_QUEUE;
	int i = 1, bad = 0, dup = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-q") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "-bad") == 0)
			bad = 1;
		else if (strcmp(argv[i], "-dup") == 0)
			dup = 1;
		else
			return usage();
	}
	long n = 0, window = WINDOW_DEFAULT;
	int args = argc - i;
	if ((bad || dup) && (args != 0 || bad + dup > 1))
		return usage();
	if (!bad && !dup) {
		if (args < 1 || args > 2 || (n = number(argv[i], 0, N_MAX)) < 0)
			return usage();
		if (args == 2 && (window = number(argv[i + 1], 1, WINDOW_MAX)) < 0)
			return usage();
	}

	int qid = qs_sq_lookup(name);
	if (qid < 0) {
		printf("count: no queue %s: %s\n", name, qs_strerror(qid));
		return 1;
	}
	if (bad)
		return bad_requests(qid);
	if (dup)
		return dup_requests(qid);

	uint32_t sent = run(qid, (uint32_t)n, (uint32_t)window);
	qs_msg_init(&req, COUNTER_OP_GET);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	const counter_state_t *s = QS_MSG_AS(&reply, counter_state_t);
	errors_print();
	if (r == 0 && !s)
		r = QS_EINVAL; /* a short answer */
	if (r != 0) {
		printf("count: error %d (%s) getting the value\n", r,
		       qs_strerror(r));
		printf("count: sent %u acked %u errors %u value ?\n",
		       (unsigned)sent, (unsigned)acked, (unsigned)errors);
		return 1;
	}
	printf("count: sent %u acked %u errors %u value %llu\n", (unsigned)sent,
	       (unsigned)acked, (unsigned)errors, (unsigned long long)s->value);
	return errors != 0;
}
