/*
 * Service queues in libqs: syscall wrappers, message helpers and the server
 * framework. A serving thread offers once; from then on the kernel enters it
 * at upcall_entry for each request, on a fresh upcall stack, and SYS_SQ_REPLY
 * sends the answer and returns the thread to the pool.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>

#define UPCALL_STACK (64 * 1024)
#define SLOT_HDR 16 /* room before the receive buffer for the slot pointer */

typedef struct {
	qs_thread_t *thread;
	int qid;
	qs_handler_t handler;
	void *ctx;
	char *stack;
	uint8_t *rbuf; /* [slot pointer][qs_msg_t][out-of-line room] */
	qs_msg_t reply;
} serve_slot_t;

static qs_mutex_t start_lock = QS_MUTEX_INIT;

int qs_sq_create(const char *name, uint32_t depth) { return qs_syscall(SYS_SQ_CREATE, (uint32_t)name, depth, 0, 0, 0); }
int qs_sq_destroy(int qid) { return qs_syscall(SYS_SQ_DESTROY, (uint32_t)qid, 0, 0, 0, 0); }
int qs_sq_admit(int qid, int pid) { return qs_syscall(SYS_SQ_ADMIT, (uint32_t)qid, (uint32_t)pid, 0, 0, 0); }
int qs_sq_lookup(const char *name) { return qs_syscall(SYS_SQ_LOOKUP, (uint32_t)name, 0, 0, 0, 0); }
int qs_sq_list(qs_sq_info_t *buf, int max) { return qs_syscall(SYS_SQ_LIST, (uint32_t)buf, (uint32_t)max, 0, 0, 0); }

int
qs_sq_find(const char *name, qs_sq_info_t *out)
{
	/* a list that filled its buffer may have missed it: ask for more */
	for (int max = 64; max <= 1024; max *= 4) {
		qs_sq_info_t *all = malloc((size_t)max * sizeof(*all));
		if (!all)
			return QS_ENOMEM;
		int n = qs_sq_list(all, max), r = n < 0 ? n : QS_ENOENT;
		for (int i = 0; i < n; i++) {
			if (strcmp(all[i].name, name) == 0) {
				*out = all[i];
				r = all[i].qid;
				break;
			}
		}
		free(all);
		if (r != QS_ENOENT || n < max)
			return r;
	}
	return QS_ENOENT;
}

int
qs_call(int qid, const qs_msg_t *req, qs_msg_t *reply, size_t cap)
{
	return qs_syscall(SYS_SQ_CALL, (uint32_t)qid, (uint32_t)req,
			  (uint32_t)reply, (uint32_t)cap, 0);
}

int
qs_call_name(const char *queue, uint32_t op, const void *data, size_t len,
	     const void *ool, size_t ool_len, void *out, size_t cap)
{
	int qid = qs_sq_lookup(queue);
	if (qid < 0)
		return qid;
	qs_msg_t *req = malloc(sizeof(qs_msg_t));
	qs_msg_t *reply = malloc(sizeof(qs_msg_t));
	int r = QS_ENOMEM;
	if (req && reply) {
		qs_msg_init(req, op);
		r = qs_msg_put(req, data, len);
		qs_msg_set_ool(req, ool, ool_len);
		if (r >= 0)
			r = qs_call(qid, req, reply, sizeof(*reply));
		if (r >= 0 && out) {
			size_t n = reply->hdr.len < cap ? reply->hdr.len : cap;
			memcpy(out, reply->data, n);
			memset((char *)out + n, 0, cap - n);
		}
	}
	free(req);
	free(reply);
	return r;
}

int
qs_send(int qid, const qs_msg_t *req)
{
	return qs_syscall(SYS_SQ_SEND, (uint32_t)qid, (uint32_t)req, 0, 0, 0);
}

int
qs_wait(int rid, qs_msg_t *reply, size_t cap, int32_t timeout_ms)
{
	return qs_syscall(SYS_SQ_WAIT, (uint32_t)rid, (uint32_t)reply,
			  (uint32_t)cap, (uint32_t)timeout_ms, 0);
}

void
qs_defer(qs_msg_t *reply)
{
	reply->hdr.flags |= QS_MSG_DEFER;
}

int
qs_answer(uint32_t rid, const qs_msg_t *reply)
{
	return qs_syscall(SYS_SQ_ANSWER, rid, (uint32_t)reply, 0, 0, 0);
}

uint64_t
qs_tx_get(void)
{
	uint64_t tx = 0;
	qs_syscall(SYS_TX_GET, (uint32_t)&tx, 0, 0, 0, 0);
	return tx;
}

int
qs_tx_set(uint64_t tx)
{
	return qs_syscall(SYS_TX_SET, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0);
}

/* ---- the server framework ---------------------------------------------- */

static serve_slot_t *
slot_of(qs_msg_t *req)
{
	return *(serve_slot_t **)((uint8_t *)req - SLOT_HDR);
}

static void upcall_entry(qs_msg_t *req) __attribute__((noreturn));

/* Offers the slot's thread on its queue: returns only on an error. */
static int
offer(serve_slot_t *s)
{
	return qs_syscall(SYS_SQ_OFFER, (uint32_t)s->qid, (uint32_t)upcall_entry,
			  (uint32_t)(s->stack + UPCALL_STACK),
			  (uint32_t)(s->rbuf + SLOT_HDR), QS_MSG_BUF_SIZE);
}

/*
 * Each upcall starts here, on the slot's upcall stack. A reply the kernel
 * refuses (too large, a bad pointer, or no memory for it while a client
 * holds the node at its reserve) fails its request, and the thread is out
 * of the queue: it offers again (the next upcall starts afresh on this
 * stack), so that no client can take a server's threads away one bad
 * answer at a time. Only a gone queue ends it.
 */
static void
upcall_entry(qs_msg_t *req)
{
	serve_slot_t *s = slot_of(req);
	qs_msg_init(&s->reply, req->hdr.opcode);
	s->reply.hdr.status = s->handler(req, &s->reply, s->ctx);
	int r = s->reply.hdr.flags & QS_MSG_DEFER
			? qs_syscall(SYS_SQ_DEFER, 0, 0, 0, 0, 0)
			: qs_syscall(SYS_SQ_REPLY, (uint32_t)&s->reply, 0, 0, 0, 0);
	if (r != QS_EQGONE)
		r = offer(s);
	qs_thread_finish(s->thread, (void *)r);
}

static void *
serve_thread(void *arg)
{
	serve_slot_t *s = arg;
	qs_mutex_lock(&start_lock); /* until qs_serve has set s->thread */
	qs_mutex_unlock(&start_lock);
	return (void *)offer(s);
}

static void
slot_free(serve_slot_t *s)
{
	free(s->stack);
	free(s->rbuf);
	free(s);
}

static serve_slot_t *
slot_new(int qid, qs_handler_t handler, void *ctx)
{
	serve_slot_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->qid = qid;
	s->handler = handler;
	s->ctx = ctx;
	s->stack = malloc(UPCALL_STACK);
	s->rbuf = malloc(SLOT_HDR + QS_MSG_BUF_SIZE);
	if (!s->stack || !s->rbuf) {
		slot_free(s);
		return NULL;
	}
	*(serve_slot_t **)s->rbuf = s;
	return s;
}

int
qs_serve(int qid, qs_handler_t handler, void *ctx, int nthreads)
{
	serve_slot_t **slots;
	int started = 0, result = 0;

	if (nthreads < 1 || nthreads > 64 || !handler)
		return QS_EINVAL;
	if (!(slots = calloc((size_t)nthreads, sizeof(*slots))))
		return QS_ENOMEM;
	qs_mutex_lock(&start_lock);
	for (int i = 0; i < nthreads; i++) {
		serve_slot_t *s = slot_new(qid, handler, ctx);
		if (!s || !(s->thread = qs_thread_create(serve_thread, s))) {
			if (s)
				slot_free(s);
			result = QS_ENOMEM;
			break;
		}
		slots[started++] = s;
	}
	qs_mutex_unlock(&start_lock);
	for (int i = 0; i < started; i++) {
		int r = (int)qs_thread_join(slots[i]->thread);
		if (r != QS_EQGONE && result == 0)
			result = r; /* e.g. no such queue */
		slot_free(slots[i]);
	}
	free(slots);
	return result;
}
