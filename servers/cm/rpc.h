/*
 * Remote requests, exactly once (rpc.c), and global names (names.c). All
 * calls with net_lock held.
 */
#ifndef CM_RPC_H
#define CM_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/cmwire.h>

/* A handler's result meaning "answered later, with qs_answer". */
#define RPC_DEFERRED 0x7FFFFFFF

int rpc_start(uint32_t node, uint32_t incarnation);
/* A request that arrived on a proxy: sent on, or an error to answer now. */
int32_t rpc_forward(const qs_msg_t *req, uint32_t node, uint32_t inc,
		    uint32_t rqid);
/* The answer to request `rid` that this CM injected. */
void rpc_completed(int rid, const qs_msg_t *reply);
/* Asynchronous requests of the CM's own still to be collected. */
uint32_t rpc_async_out(void);
void rpc_async_done(void);
/* Is anything waiting for a retransmission or an answer? */
bool rpc_busy(void);
/* A node's new incarnation (from a heartbeat): its old state goes. */
void rpc_restarted(uint32_t node, uint32_t inc);
void rpc_stats(cm_rpc_stats_t *s);
/* The TM's part: tx is recoverable here (answers for it say so); is pid
 * the TM; a node died or restarted (TM_NODE_*), told to the TM. */
void rpc_mark(uint64_t tx);
void rpc_unmark(uint64_t tx);
bool rpc_from_tm(int pid);
void rpc_node_event(uint32_t node, uint32_t event, uint32_t inc);
/* A packet refused, by kind (cm_rpc_stats_t.rej_*); those on the CM port
 * (before REJ_HEARTBEAT) count in `bad` too. REJ_HB_INC: a heartbeat's
 * incarnation (counted in rej_inc, with REJ_HEARTBEAT for the packet), and
 * likewise REJ_HB_SEAL (rej_seal) and REJ_HB_REPLAY (rej_replay). */
enum { REJ_HEADER, REJ_LENGTH, REJ_SEQ, REJ_FLOOR, REJ_INC, REJ_QUEUE,
       REJ_SEAL, REJ_HEARTBEAT, REJ_HB_INC, REJ_HB_SEAL, REJ_HB_REPLAY };
void rpc_reject(int kind);
/* qs_answer for a deferred request, which may not be deferred yet: the
 * forwarding thread sends a request, drops net_lock and only then defers
 * it, so its answer can come first. Such an answer is kept and given once
 * the request is deferred (rpc.c's tick). */
int rpc_answer(uint32_t rid, const qs_msg_t *m);
/* The test hook CM_OP_DEFER_DELAY: how long a forwarding thread waits
 * between sending a request and deferring it. */
extern uint32_t rpc_defer_delay_ms;
/* One packet to `node` (WIRE_ALL: every node). */
int wire_send(uint32_t node, uint8_t type, uint32_t dst_inc, uint32_t seq,
	      const void *body, uint32_t len);

/* names.c */
void names_start(uint32_t node);
/* A lookup the kernel passed on (request rid; name checked, shorter than
 * QS_NAME_MAX): a queue id now, or RPC_DEFERRED. */
int32_t names_lookup(uint32_t rid, int32_t pid, const char *name);
extern uint32_t names_limited;
/* A request on a proxy: where it goes. QS_ENOENT if qid is no proxy. */
int names_proxy(int qid, uint32_t *node, uint32_t *inc, uint32_t *rqid);
/* The proxy qid points to a queue that is gone: forget it. */
void names_drop(int qid);
/* Node node answered that its queue rqid is gone (QS_EQGONE): the proxies
 * to it go, so that the next lookup by name finds the queue a restarted
 * server made. */
void names_gone(uint32_t node, uint32_t rqid);
/* node restarted as incarnation inc: proxies to earlier ones go. */
void names_forget_node(uint32_t node, uint32_t inc);
void names_input(const wire_hdr_t *h, const uint8_t *body);
void names_tick(void);
uint32_t names_proxies(void);

#endif
