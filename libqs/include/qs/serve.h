/*
 * The table-driven server framework: every server serves its queues through
 * a table indexed by opcode, so every request boundary has one shape:
 *
 *   1. dispatch: an opcode with no entry is QS_ENOSYS;
 *   2. sizes: inline data outside [min_len, max_len], or out-of-line data
 *      longer than max_ool, is QS_EINVAL;
 *   3. decode (optional): checks what sizes cannot (a string's NUL, a
 *      count against the length, a range) and extracts the arguments into
 *      a buffer the invoke step reads; it does no work and changes nothing;
 *   4. invoke: the work, with arguments known to be well formed.
 *
 * This is seL4's decode/invoke split. Each refusal in steps 1-3 is counted
 * in the table's qs_serve_stats_t, by kind, and answered with its error;
 * the handler never sees the request.
 *
 * Before the sizes, the caller's authority: an operation's `who` says who may
 * call it (anyone, by default); anyone else gets QS_EPERM, counted as
 * bad_caller. Who the caller is comes from what the kernel stamped on the
 * request (node, pid, rights), never from the request's data.
 *
 * A table is an array indexed by opcode (designated initialisers):
 *
 *   static const qs_op_t echo_ops[] = {
 *       [ECHO_OP_ECHO] = { "echo", 0, QS_MSG_INLINE, QS_MSG_OOL_MAX,
 *                          NULL, do_echo },
 *       ...
 *   };
 *   static qs_server_t echo_server = QS_SERVER("echod", echo_ops, NULL);
 *   qs_serve_table(qid, &echo_server, 2);
 *
 * docs/writing-a-server.md walks through it.
 */
#ifndef QS_SERVE_H
#define QS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <qs/sq.h>
#include <qs/thread.h>

/* The most a decode step may write into its argument buffer. */
#define QS_DECODED_MAX 256

/*
 * decode(req, args): 0 if req is well formed, after filling args (zeroed,
 * QS_DECODED_MAX bytes, aligned for any type); else the error the client gets
 * (QS_EINVAL for malformed input).
 *
 * invoke(req, args, reply, ctx): the work. args is what decode filled or,
 * for an operation without decode, the request's inline data itself (its
 * size already checked). It fills reply (or defers it: qs_defer) and returns
 * the status the client sees.
 */
typedef int32_t (*qs_decode_t)(const qs_msg_t *req, void *args);
typedef int32_t (*qs_invoke_t)(const qs_msg_t *req, const void *args,
			       qs_msg_t *reply, void *ctx);

/*
 * Who may call an operation (qs_op_t.who): 0 is anyone; otherwise every
 * condition given must hold.
 *   QS_WHO_LOCAL     a process on this node
 *   QS_WHO_KERNEL    this node's kernel (its notices: src_pid 0)
 *   QS_WHO_RIGHT(r)  a caller holding the QS_RIGHT_* bits r (rights are a
 *                    node's own: a remote caller has none)
 *   QS_WHO_TM        a TM, of this node or another (QS_MSG_SRC_TM, which its
 *                    kernel stamped)
 *   QS_WHO_SYSTEM    a system server, of this node or another
 *                    (QS_MSG_SRC_SYSTEM)
 */
#define QS_WHO_LOCAL 0x10000u
#define QS_WHO_KERNEL 0x20000u
#define QS_WHO_TM 0x40000u
#define QS_WHO_SYSTEM 0x80000u
#define QS_WHO_RIGHT(r) ((uint32_t)(r) & 0xFFFFu)

typedef struct {
	const char *name;          /* for logs and docs */
	uint32_t min_len, max_len; /* inline bytes the request may carry */
	uint32_t max_ool;          /* out-of-line bytes it may carry; 0: none */
	qs_decode_t decode;        /* NULL: the sizes are the whole check */
	qs_invoke_t invoke;        /* NULL: no such operation */
	uint32_t who;              /* QS_WHO_*: who may call it; 0 anyone */
} qs_op_t;

/* Requests refused before any handler ran, by why. */
typedef struct {
	uint32_t served;     /* reached invoke */
	uint32_t bad_opcode; /* no such operation: QS_ENOSYS */
	uint32_t bad_size;   /* inline or out-of-line size out of bounds */
	uint32_t bad_decode; /* decode refused it */
	uint32_t bad_caller; /* the caller may not: QS_EPERM */
} qs_serve_stats_t;

typedef struct {
	const char *name;      /* the server's, for logs */
	const qs_op_t *ops;    /* indexed by opcode */
	uint32_t nops;         /* entries in ops */
	qs_mutex_t *lock;      /* if set, held around every invoke (not decode) */
	void *ctx;             /* passed to every invoke */
	qs_serve_stats_t stats;
} qs_server_t;

/* min_len, max_len for a request that is exactly one `type`. */
#define QS_LEN(type) sizeof(type), sizeof(type)

/* A server over a table that is a C array in scope. */
#define QS_SERVER(name, ops, ctx)                                       \
	{ (name), (ops), sizeof(ops) / sizeof((ops)[0]), NULL, (ctx), { 0 } }
/* ... whose invokes all run holding *lock (a qs_mutex_t with static
   storage); an invoke may drop and retake it, as long as it holds it when
   it returns. */
#define QS_SERVER_LOCKED(name, ops, ctx, lock)                          \
	{ (name), (ops), sizeof(ops) / sizeof((ops)[0]), (lock), (ctx), { 0 } }

/*
 * Two opcodes every table answers itself, outside any table's range, for
 * init's watch over its services (servers/init/README.md):
 *   QS_OP_PING  from a process of this node: answered 0 by a serving
 *               thread, after taking the server's lock if it has one, so
 *               an answer says that the server still takes requests (its
 *               keep-alive);
 *   QS_OP_HANG  from init only (`svc hang`, to watch a hung server be
 *               found): the server stops; this request and every later one
 *               get no answer, until init kills it.
 * Refused callers are counted as bad_caller, as the table's own.
 */
#define QS_OP_PING 0xFFF0u
#define QS_OP_HANG 0xFFF1u

/*
 * One request through the table: dispatch, sizes, decode, invoke. A
 * qs_handler_t (ctx is the qs_server_t), for servers that look at a request
 * before the table does.
 */
int32_t qs_dispatch(const qs_msg_t *req, qs_msg_t *reply, void *server);

/* qs_serve with qs_dispatch over srv: returns when the queue is destroyed. */
int qs_serve_table(int qid, qs_server_t *srv, int nthreads);

/* A copy of srv's counters, taken atomically counter by counter. */
void qs_serve_stats(const qs_server_t *srv, qs_serve_stats_t *out);
/* Requests srv refused before invoke: bad_opcode + bad_size + bad_decode +
   bad_caller, for servers whose statistics have one counter for them. */
uint32_t qs_serve_refused(const qs_server_t *srv);

/* For a handler that checks who may use its whole queue before the table
 * sees a request (the TM's tm.net takes only its CM's): the refusal, counted
 * in srv's bad_caller like the table's own. Returns QS_EPERM. */
int32_t qs_serve_refuse(qs_server_t *srv);

/* Does the request's caller satisfy `who` (QS_WHO_*)? */
int qs_caller_may(const qs_msg_t *req, uint32_t who);

/*
 * Decode helpers. qs_decode_str: the inline data is one non-empty string
 * whose NUL is its last byte; args receives it. The operation's max_len
 * (at most QS_DECODED_MAX) bounds its length. QS_EINVAL otherwise.
 */
int32_t qs_decode_str(const qs_msg_t *req, void *args);

#endif
