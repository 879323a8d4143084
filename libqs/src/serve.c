/*
 * The table-driven server framework (qs/serve.h): dispatch by opcode, size
 * bounds, decode, then invoke. A refused request is counted and answered
 * before any handler runs.
 */
#include <string.h>
#include <stdbool.h>
#include <qs/serve.h>
#include <qs/sys.h>

static void
count(uint32_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static int hung; /* QS_OP_HANG came: this process serves no more */

/* Takes every serving thread that comes here, for good. */
static void
hang(void)
{
	__atomic_store_n(&hung, 1, __ATOMIC_RELAXED);
	for (;;)
		qs_sleep(60000);
}

/* QS_OP_PING and QS_OP_HANG (qs/serve.h). */
static int32_t
watched(qs_server_t *srv, const qs_msg_t *req)
{
	bool from_init = qs_caller_may(req, QS_WHO_LOCAL) &&
			 req->hdr.src_pid == QS_INIT_PID;
	if (req->hdr.opcode == QS_OP_HANG && from_init)
		hang();
	if (req->hdr.opcode == QS_OP_HANG || !qs_caller_may(req, QS_WHO_LOCAL)) {
		count(&srv->stats.bad_caller);
		return QS_EPERM;
	}
	if (req->hdr.len || req->hdr.ool_len) {
		count(&srv->stats.bad_size);
		return QS_EINVAL;
	}
	if (srv->lock) { /* a thread stuck holding it stops the answer */
		qs_mutex_lock(srv->lock);
		qs_mutex_unlock(srv->lock);
	}
	return 0;
}

int32_t
qs_dispatch(const qs_msg_t *req, qs_msg_t *reply, void *server)
{
	qs_server_t *srv = server;
	uint32_t opcode = req->hdr.opcode;
	if (__atomic_load_n(&hung, __ATOMIC_RELAXED))
		hang();
	if (opcode == QS_OP_PING || opcode == QS_OP_HANG)
		return watched(srv, req);
	const qs_op_t *op = opcode < srv->nops ? &srv->ops[opcode] : NULL;
	if (!op || !op->invoke) {
		count(&srv->stats.bad_opcode);
		return QS_ENOSYS;
	}
	if (op->who && !qs_caller_may(req, op->who)) {
		count(&srv->stats.bad_caller);
		return QS_EPERM;
	}
	if (req->hdr.len < op->min_len || req->hdr.len > op->max_len ||
	    req->hdr.ool_len > op->max_ool) {
		count(&srv->stats.bad_size);
		return QS_EINVAL;
	}
	/* aligned for any argument type, and zeroed: decode fills what it has */
	union {
		uint64_t align;
		uint8_t bytes[QS_DECODED_MAX];
	} args;
	const void *a = req->data;
	if (op->decode) {
		memset(&args, 0, sizeof(args));
		int32_t r = op->decode(req, &args);
		if (r < 0) {
			count(&srv->stats.bad_decode);
			return r;
		}
		a = &args;
	}
	count(&srv->stats.served);
	if (srv->lock)
		qs_mutex_lock(srv->lock);
	int32_t r = op->invoke(req, a, reply, srv->ctx);
	if (srv->lock)
		qs_mutex_unlock(srv->lock);
	return r;
}

int32_t
qs_serve_refuse(qs_server_t *srv)
{
	count(&srv->stats.bad_caller);
	return QS_EPERM;
}

int
qs_caller_may(const qs_msg_t *req, uint32_t who)
{
	static uint32_t node = (uint32_t)-1;
	if (node == (uint32_t)-1) { /* the node never changes: ask once */
		qs_node_info_t ni;
		qs_node_info(&ni);
		node = ni.node_id;
	}
	uint32_t rights = QS_WHO_RIGHT(who);
	bool local = req->hdr.src_node == node;
	if ((who & QS_WHO_LOCAL) && !local)
		return 0;
	if ((who & QS_WHO_KERNEL) && !(local && req->hdr.src_pid == 0))
		return 0;
	if ((who & QS_WHO_TM) && !(req->hdr.flags & QS_MSG_SRC_TM))
		return 0;
	if ((who & QS_WHO_SYSTEM) && !(req->hdr.flags & QS_MSG_SRC_SYSTEM))
		return 0;
	return (req->hdr.src_rights & rights) == rights && (!rights || local);
}

int
qs_serve_table(int qid, qs_server_t *srv, int nthreads)
{
	if (!srv || !srv->ops)
		return QS_EINVAL;
	return qs_serve(qid, qs_dispatch, srv, nthreads);
}

void
qs_serve_stats(const qs_server_t *srv, qs_serve_stats_t *out)
{
	out->served = __atomic_load_n(&srv->stats.served, __ATOMIC_RELAXED);
	out->bad_opcode = __atomic_load_n(&srv->stats.bad_opcode, __ATOMIC_RELAXED);
	out->bad_size = __atomic_load_n(&srv->stats.bad_size, __ATOMIC_RELAXED);
	out->bad_decode = __atomic_load_n(&srv->stats.bad_decode, __ATOMIC_RELAXED);
	out->bad_caller = __atomic_load_n(&srv->stats.bad_caller, __ATOMIC_RELAXED);
}

uint32_t
qs_serve_refused(const qs_server_t *srv)
{
	qs_serve_stats_t s;
	qs_serve_stats(srv, &s);
	return s.bad_opcode + s.bad_size + s.bad_decode + s.bad_caller;
}

int32_t
qs_decode_str(const qs_msg_t *req, void *args)
{
	uint32_t len = req->hdr.len;
	if (len < 2 || len > QS_DECODED_MAX || req->data[len - 1] != 0 ||
	    memchr(req->data, 0, len - 1))
		return QS_EINVAL;
	memcpy(args, req->data, len);
	return 0;
}
