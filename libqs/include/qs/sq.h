/*
 * Service queues from user space: the client calls, the server framework,
 * and helpers to fill and read messages. See docs/writing-a-server.md.
 *
 * A message (qs_msg_t, from qs/abi.h) is a header and up to QS_MSG_INLINE
 * bytes of data; hdr.ool/hdr.ool_len add up to QS_MSG_OOL_MAX more bytes out
 * of line. Every request carries the sender's transaction id (hdr.txid),
 * stamped by the kernel; a handler runs under that transaction.
 */
#ifndef QS_SQ_H
#define QS_SQ_H

#include <stddef.h>
#include <stdint.h>
#include <qs/abi.h>

/* A receive buffer with room for the out-of-line part as well. */
#define QS_MSG_BUF_SIZE (sizeof(qs_msg_t) + QS_MSG_OOL_MAX)

/* Queues: names are global on the node; depth 0 means the default. */
int qs_sq_create(const char *name, uint32_t depth);
int qs_sq_destroy(int qid);
/* Lets process pid offer on the caller's queue qid too. */
int qs_sq_admit(int qid, int pid);
int qs_sq_lookup(const char *name);
int qs_sq_list(qs_sq_info_t *buf, int max);
/*
 * The queue called name on this node (a proxy to another node's counts),
 * never asking the network: fills *out (qid, owner pid, ...) and returns
 * its qid, or QS_ENOENT. Safe from any thread.
 */
int qs_sq_find(const char *name, qs_sq_info_t *out);

/*
 * Synchronous request: blocks until the answer is in `reply` (of `cap`
 * bytes, at least sizeof(qs_msg_hdr_t)) and returns its status: what the
 * handler returned, or QS_ESRVDIED, QS_EQGONE, QS_ENOENT, QS_EFAULT...
 */
int qs_call(int qid, const qs_msg_t *req, qs_msg_t *reply, size_t cap);
/*
 * A synchronous request on the queue called `queue`, looked up now (so a
 * restarted server is found): opcode op, `len` bytes of data inline and
 * `ool_len` out of line; up to cap bytes of the answer's inline data into
 * out (the rest zeroed). Its messages come from the heap, so that threads
 * of one process may call at once. The answer's status, or the lookup's
 * error, or QS_ENOMEM.
 */
int qs_call_name(const char *queue, uint32_t op, const void *data, size_t len,
		 const void *ool, size_t ool_len, void *out, size_t cap);
/* Asynchronous request: returns its request id (> 0) or an error. */
int qs_send(int qid, const qs_msg_t *req);
/*
 * Waits for the answer to request `rid` (0: any of this process's async
 * requests) for up to timeout_ms (-1: no limit). Returns the request id; the
 * answer's status is reply->hdr.status.
 */
int qs_wait(int rid, qs_msg_t *reply, size_t cap, int32_t timeout_ms);

/*
 * A handler answers one request: it fills `reply` (data, ool) and returns
 * the status the client will see. It runs in an upcall thread, under the
 * request's transaction.
 */
typedef int32_t (*qs_handler_t)(const qs_msg_t *req, qs_msg_t *reply,
				void *ctx);
/*
 * Offers `nthreads` threads on the queue, each running `handler` for one
 * request at a time; returns when the queue is destroyed.
 */
int qs_serve(int qid, qs_handler_t handler, void *ctx, int nthreads);

/*
 * A handler that cannot answer yet calls qs_defer(reply) and returns: its
 * thread is free for the next request, and the request (hdr.rid) waits
 * until some thread of the process calls qs_answer(rid, reply), which takes
 * the status from reply->hdr.status. If the process dies first, the client
 * gets QS_ESRVDIED.
 */
#define QS_MSG_DEFER 0x100 /* in reply->hdr.flags: libqs's, not the kernel's */
void qs_defer(qs_msg_t *reply);
int qs_answer(uint32_t rid, const qs_msg_t *reply);

/* Message helpers. */
void qs_msg_init(qs_msg_t *m, uint32_t opcode);
int qs_msg_put(qs_msg_t *m, const void *data, size_t len); /* append inline */
int qs_msg_put_str(qs_msg_t *m, const char *s);           /* with its NUL */
/* The next `len` inline bytes from *off on, or NULL if there are fewer. */
const void *qs_msg_get(const qs_msg_t *m, size_t *off, size_t len);
/* The inline data as one `type`, or NULL if the message is too short. */
#define QS_MSG_AS(m, type)                                                   \
	((m)->hdr.len >= sizeof(type) ? (const type *)(const void *)(m)->data \
				      : (const type *)0)
void qs_msg_set_ool(qs_msg_t *m, const void *data, size_t len);

/* The calling thread's transaction; set only to one this process holds. */
uint64_t qs_tx_get(void);
int qs_tx_set(uint64_t tx);

#endif
