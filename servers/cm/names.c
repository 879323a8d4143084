/*
 * Global names. Queue names are node-local in the kernel; a lookup that
 * misses comes to the CM (QS_NOTICE_LOOKUP on QS_NET_QUEUE). "NAME@N" is
 * asked of node N alone; a plain "NAME" of every node at once (broadcast),
 * and the first node that has it wins. The answer becomes a proxy, a local
 * queue entry under the name the client used, whose requests come to the
 * CM (rpc.c) and go to that node. A lookup unanswered after
 * LOOKUP_TRIES x LOOKUP_RETRY_MS fails: QS_ENOENT (QS_EUNREACH for a node
 * that is down or never answered).
 *
 * A node answers only for its own queues: not for its proxies (no chains)
 * and not for local-only ones (wire_local_only: "kernel.*", "tm.net").
 * A FOUND counts only with the incarnation membership holds for its sender
 * (a proxy to a life the node has not had would be refused at once).
 * One client has at most LOOKUPS_PER_CLIENT lookups under way
 * (QS_ELIMIT past it, counted: `net`'s lookups-limited).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include "member.h"
#include "rpc.h"

#define PROXIES_MAX 64
#define LOOKUPS_MAX 16
/* A quarter of the table for one process: a client that floods kernel.net
 * with lookups (a lookup is any process's to send) cannot make every other
 * client's remote lookups fail. */
#define LOOKUPS_PER_CLIENT 4
#define LOOKUP_RETRY_MS 250
#define LOOKUP_TRIES 4

typedef struct {
	int qid; /* 0: a free slot */
	uint32_t node, inc, rqid;
	char name[QS_NAME_MAX];
} proxy_t;

typedef struct {
	uint32_t rid; /* the kernel's request; 0: a free slot */
	int32_t pid;  /* the client that asked */
	uint32_t node; /* asked of, or WIRE_ALL */
	uint32_t nonce;
	uint32_t sent_ms, tries;
	char name[QS_NAME_MAX]; /* what the client asked for */
	char base[QS_NAME_MAX]; /* without "@N" */
} lookup_t;

static uint32_t self, next_nonce, started_ms;
static proxy_t proxies[PROXIES_MAX];
static lookup_t lookups[LOOKUPS_MAX];
uint32_t names_limited; /* lookups refused for LOOKUPS_PER_CLIENT */

void
names_start(uint32_t node)
{
	self = node;
	started_ms = qs_uptime_ms();
	next_nonce = started_ms | 1;
}

static proxy_t *
proxy_by_qid(int qid)
{
	for (int i = 0; i < PROXIES_MAX; i++)
		if (proxies[i].qid == qid && qid > 0)
			return &proxies[i];
	return NULL;
}

int
names_proxy(int qid, uint32_t *node, uint32_t *inc, uint32_t *rqid)
{
	proxy_t *p = proxy_by_qid(qid);
	if (!p)
		return QS_ENOENT;
	*node = p->node;
	*inc = p->inc;
	*rqid = p->rqid;
	return 0;
}

void
names_drop(int qid)
{
	proxy_t *p = proxy_by_qid(qid);
	if (p) {
		qs_sq_destroy(p->qid); /* the next lookup asks again */
		p->qid = 0;
	}
}

void
names_gone(uint32_t node, uint32_t rqid)
{
	for (int i = 0; i < PROXIES_MAX; i++)
		if (proxies[i].qid && proxies[i].node == node &&
		    proxies[i].rqid == rqid)
			names_drop(proxies[i].qid);
}

void
names_forget_node(uint32_t node, uint32_t inc)
{
	for (int i = 0; i < PROXIES_MAX; i++)
		if (proxies[i].qid && proxies[i].node == node &&
		    proxies[i].inc != inc)
			names_drop(proxies[i].qid);
}

uint32_t
names_proxies(void)
{
	uint32_t n = 0;
	for (int i = 0; i < PROXIES_MAX; i++)
		n += proxies[i].qid != 0;
	return n;
}

/* Splits "NAME@N": the node, or WIRE_ALL without a suffix, or -1. */
static int
parse_name(const char *name, char *base)
{
	const char *at = strrchr(name, '@');
	size_t n = at ? (size_t)(at - name) : strlen(name);
	memcpy(base, name, n);
	base[n] = 0;
	if (!at)
		return WIRE_ALL;
	char *end;
	long node = strtol(at + 1, &end, 10);
	if (n == 0 || at[1] < '0' || at[1] > '9' || *end || node >= CM_NODES_MAX)
		return -1;
	return (int)node;
}

/* The answer to a lookup: a proxy for (node, inc, rqid), made if need be. */
static int32_t
make_proxy(const char *name, uint32_t node, uint32_t inc, uint32_t rqid)
{
	for (int i = 0; i < PROXIES_MAX; i++)
		if (proxies[i].qid && strcmp(proxies[i].name, name) == 0)
			return proxies[i].qid; /* another lookup made it */
	proxy_t *p = NULL;
	for (int i = 0; i < PROXIES_MAX && !p; i++)
		if (!proxies[i].qid)
			p = &proxies[i];
	if (!p)
		return QS_ENOSPC;
	int qid = qs_syscall(SYS_SQ_PROXY, (uint32_t)(uintptr_t)name, node, 0,
			     0, 0);
	if (qid == QS_EEXIST) /* a local queue appeared meanwhile */
		return qs_sq_lookup(name);
	if (qid < 0)
		return qid;
	*p = (proxy_t){ qid, node, inc, rqid, { 0 } };
	strcpy(p->name, name);
	return qid;
}

static void
lookup_send(lookup_t *l)
{
	uint32_t inc = 0;
	if (l->node != WIRE_ALL)
		member_state(l->node, &inc);
	l->sent_ms = qs_uptime_ms();
	l->tries++;
	wire_send(l->node, PK_LOOKUP, inc, l->nonce, l->base,
		  (uint32_t)strlen(l->base) + 1);
}

static void
lookup_answer(lookup_t *l, int32_t status)
{
	static qs_msg_t m;
	qs_msg_init(&m, QS_NOTICE_LOOKUP);
	m.hdr.status = status;
	rpc_answer(l->rid, &m); /* kept if the lookup is not deferred yet */
	l->rid = 0;
}

int32_t
names_lookup(uint32_t rid, int32_t pid, const char *name)
{
	char base[QS_NAME_MAX];
	uint32_t inc;
	int node = parse_name(name, base);
	if (node < 0 || wire_local_only(base))
		return QS_ENOENT;
	if (node == (int)self)
		return qs_sq_lookup(base); /* "NAME@here" is NAME */
	if (node != WIRE_ALL) {
		uint32_t state = member_state((uint32_t)node, &inc);
		if (state != CM_NODE_UP && state != CM_NODE_SUSPECT)
			return QS_EUNREACH;
	} else if (!member_any_up() &&
		   qs_uptime_ms() - started_ms > CM_SUSPECT_MS) {
		return QS_ENOENT; /* nobody else to ask (and not just booted) */
	}
	lookup_t *l = NULL;
	int mine = 0;
	for (int i = 0; i < LOOKUPS_MAX; i++) {
		if (!lookups[i].rid && !l)
			l = &lookups[i];
		mine += lookups[i].rid && lookups[i].pid == pid;
	}
	if (mine >= LOOKUPS_PER_CLIENT) {
		names_limited++;
		return QS_ELIMIT;
	}
	if (!l)
		return QS_EAGAIN;
	*l = (lookup_t){ rid, pid, (uint32_t)node, next_nonce++, 0, 0,
			 { 0 }, { 0 } };
	strcpy(l->name, name);
	strcpy(l->base, base);
	lookup_send(l);
	return RPC_DEFERRED;
}

/* Another node asks whether we serve `name`. */
static void
lookup_input(const wire_hdr_t *h, const char *name)
{
	static uint8_t body[4 + QS_NAME_MAX];
	int32_t qid = wire_local_only(name) ? QS_ENOENT : qs_sq_lookup(name);
	if (qid > 0 && proxy_by_qid(qid))
		qid = QS_ENOENT; /* served elsewhere: they can ask there */
	if (qid < 0 && h->dst == WIRE_ALL)
		return; /* only those who have it answer a broadcast */
	uint32_t n = (uint32_t)strlen(name) + 1;
	memcpy(body, &qid, 4);
	memcpy(body + 4, name, n);
	wire_send(h->src, PK_FOUND, h->src_inc, h->seq, body, 4 + n);
}

static void
found_input(const wire_hdr_t *h, int32_t qid)
{
	for (int i = 0; i < LOOKUPS_MAX; i++) {
		lookup_t *l = &lookups[i];
		if (!l->rid || l->nonce != h->seq ||
		    (l->node != WIRE_ALL && l->node != h->src))
			continue;
		if (qid > 0)
			lookup_answer(l, make_proxy(l->name, h->src, h->src_inc,
						    (uint32_t)qid));
		else if (l->node != WIRE_ALL)
			lookup_answer(l, QS_ENOENT);
		return;
	}
}

void
names_input(const wire_hdr_t *h, const uint8_t *body)
{
	const char *name = (const char *)body + (h->type == PK_FOUND ? 4 : 0);
	uint32_t n = h->len - (h->type == PK_FOUND ? 4 : 0);
	int32_t qid;
	if (h->len < (h->type == PK_FOUND ? 6u : 2u) || n > QS_NAME_MAX ||
	    name[n - 1] || strlen(name) != n - 1) {
		rpc_reject(REJ_LENGTH);
		return;
	}
	if (h->type == PK_LOOKUP) {
		lookup_input(h, name);
		return;
	}
	if (member_check(h->src, h->src_inc) != INC_SAME) {
		rpc_reject(REJ_INC);
		return;
	}
	memcpy(&qid, body, 4);
	found_input(h, qid);
}

void
names_tick(void)
{
	uint32_t now = qs_uptime_ms();
	for (int i = 0; i < LOOKUPS_MAX; i++) {
		lookup_t *l = &lookups[i];
		if (!l->rid || now - l->sent_ms < LOOKUP_RETRY_MS)
			continue;
		if (l->tries < LOOKUP_TRIES)
			lookup_send(l);
		else
			lookup_answer(l, l->node == WIRE_ALL ? QS_ENOENT
							     : QS_EUNREACH);
	}
}
