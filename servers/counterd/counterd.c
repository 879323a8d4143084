/*
 * counterd: a counter on queue "counter" that remembers the id of every
 * increment, to catch a request executed twice (protocol: qs/counter.h).
 *
 *   counterd [-q QUEUE]          serve (queue "counter"), several threads
 *   counterd [-q QUEUE] check    print the state; exit 1 if there were
 *                                duplicates
 *   counterd [-q QUEUE] reset    zero the value and forget every id
 *
 * Only the public libqs API, so clients on other nodes reach it unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/counter.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>

#define SERVE_THREADS 4  /* pipelined requests are served concurrently */
#define TABLE_MIN 4096   /* slots; a power of two */
#define TABLE_MAX (2u * 1024 * 1024) /* 16 MiB: COUNTER_IDS_MAX under 1/2 */

/*
 * The id set: open addressing with linear probing, 0 marking a free slot;
 * id 0 itself is kept in a flag. It doubles while it is more than half
 * full; if memory for that runs out it keeps going, fuller, up to 7/8.
 */
static struct {
	qs_mutex_t lock;
	uint64_t value;
	uint32_t ids, duplicates;
	uint64_t *slots;
	uint32_t cap;
	int have_zero;
	int full_reported;
} st = { .lock = QS_MUTEX_INIT };

static uint32_t
id_hash(uint64_t id)
{
	/* splitmix64's finaliser: ids of one run differ only in low bits */
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ull;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebull;
	id ^= id >> 31;
	return (uint32_t)id;
}

/* The slot holding id, or the free slot where it belongs. */
static uint64_t *
id_slot(uint64_t *slots, uint32_t cap, uint64_t id)
{
	uint32_t i = id_hash(id) & (cap - 1);
	while (slots[i] != 0 && slots[i] != id)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void
id_grow(void)
{
	uint32_t cap = st.cap * 2;
	if (cap > TABLE_MAX)
		return;
	uint64_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return; /* id_insert copes with a fuller table */
	for (uint32_t i = 0; i < st.cap; i++)
		if (st.slots[i])
			*id_slot(slots, cap, st.slots[i]) = st.slots[i];
	free(st.slots);
	st.slots = slots;
	st.cap = cap;
}

/* 1 if id is new (now recorded), 0 if seen before, QS_ENOSPC if no room. */
static int
id_insert(uint64_t id)
{
	if (id == 0) {
		if (st.have_zero)
			return 0;
		if (st.ids >= COUNTER_IDS_MAX)
			return QS_ENOSPC;
		st.have_zero = 1;
		st.ids++;
		return 1;
	}
	uint64_t *s = id_slot(st.slots, st.cap, id);
	if (*s == id)
		return 0;
	if (st.ids >= COUNTER_IDS_MAX || st.ids >= st.cap / 8 * 7)
		return QS_ENOSPC;
	*s = id;
	st.ids++;
	if (st.ids > st.cap / 2)
		id_grow();
	return 1;
}

static int32_t
counter_inc(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)ctx;
	const counter_inc_t *inc = args;
	qs_mutex_lock(&st.lock);
	int r = id_insert(inc->id);
	if (r == QS_ENOSPC && !st.full_reported) {
		/* once: every refused increment also tells its client */
		st.full_reported = 1;
		printf("counterd: id set full at %u ids; refusing new ids\n",
		       (unsigned)st.ids);
	}
	if (r == 0)
		st.duplicates++;
	if (r >= 0)
		st.value++;
	uint64_t value = st.value;
	qs_mutex_unlock(&st.lock);
	if (r < 0)
		return r;
	qs_msg_put(reply, &value, sizeof(value));
	return 0;
}

static int32_t
counter_get(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	qs_mutex_lock(&st.lock);
	counter_state_t s = { st.value, st.ids, st.duplicates };
	qs_mutex_unlock(&st.lock);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
counter_reset(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	      void *ctx)
{
	(void)req, (void)args, (void)reply, (void)ctx;
	qs_mutex_lock(&st.lock);
	memset(st.slots, 0, st.cap * sizeof(*st.slots));
	st.value = 0;
	st.ids = st.duplicates = 0;
	st.have_zero = st.full_reported = 0;
	qs_mutex_unlock(&st.lock);
	return 0;
}

/* Served through the table (qs/serve.h); the invokes take st.lock. */
static const qs_op_t ops[] = {
	[COUNTER_OP_INC] = { "inc", QS_LEN(counter_inc_t), 0, NULL, counter_inc },
	[COUNTER_OP_GET] = { "get", 0, 0, 0, NULL, counter_get },
	[COUNTER_OP_RESET] = { "reset", 0, 0, 0, NULL, counter_reset,
			       QS_WHO_RIGHT(QS_RIGHT_ADMIN) },
};
static qs_server_t server = QS_SERVER("counterd", ops, NULL);

static int
serve(const char *name)
{
	st.cap = TABLE_MIN;
	if (!(st.slots = calloc(st.cap, sizeof(*st.slots)))) {
		printf("counterd: out of memory\n");
		return 1;
	}
	/* the deepest queue, so a client's whole window can wait in it */
	int qid = qs_sq_create(name, QS_SQ_DEPTH_MAX);
	if (qid < 0) {
		printf("counterd: cannot create queue %s: %s\n", name,
		       qs_strerror(qid));
		return 1;
	}
	printf("counterd: serving queue %s (qid %d)\n", name, qid);
	return qs_serve_table(qid, &server, SERVE_THREADS) < 0;
}

/* `check` and `reset`: one request as a client. */
static int
client(const char *name, uint32_t op)
{
	static qs_msg_t req, reply;
	int qid = qs_sq_lookup(name);
	if (qid < 0) {
		printf("counterd: no queue %s: %s\n", name, qs_strerror(qid));
		return 1;
	}
	qs_msg_init(&req, op);
	int status = qs_call(qid, &req, &reply, sizeof(reply));
	if (status < 0) {
		printf("counterd: %s\n", qs_strerror(status));
		return 1;
	}
	if (op == COUNTER_OP_RESET) {
		printf("counterd: reset\n");
		return 0;
	}
	const counter_state_t *s = QS_MSG_AS(&reply, counter_state_t);
	if (!s) {
		printf("counterd: short reply (%u bytes)\n",
		       (unsigned)reply.hdr.len);
		return 1;
	}
	printf("counterd: value %llu ids %u duplicates %u\n",
	       (unsigned long long)s->value, (unsigned)s->ids,
	       (unsigned)s->duplicates);
	return s->duplicates != 0;
}

static int
usage(void)
{
	printf("usage: counterd [-q QUEUE] [check|reset]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *name = COUNTER_QUEUE;
	const char *cmd = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (!cmd && (strcmp(argv[i], "check") == 0 ||
				  strcmp(argv[i], "reset") == 0))
			cmd = argv[i];
		else
			return usage();
	}
	if (!cmd)
		return serve(name);
	return client(name, strcmp(cmd, "check") == 0 ? COUNTER_OP_GET
						      : COUNTER_OP_RESET);
}
