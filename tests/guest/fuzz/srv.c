/*
 * Requests to the node's servers: any queue a process other than a fuzz
 * one serves (tm, tm.net, fs, wm, disk, cm, echo, counter, the servers'
 * recovery queues tx.rq.PID, kernel.deaths and kernel.net...), found with
 * SYS_SQ_LIST. Half the requests follow the queue's protocol (a real
 * opcode and a body of the right shape, its fields taken from what makes
 * sense, the edges, and what earlier answers returned: handles, window
 * ids, transactions), then are often mutated (a byte flipped, the length
 * cut or stretched, out-of-line bytes added); the other half are random
 * (any opcode, any length). Sent synchronously or not, from the main
 * thread or, under a request's transaction, from a handler of ours.
 *
 * Everything here takes its PRNG as an argument: handlers call it on their
 * own threads.
 */
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/counter.h>
#include <qs/disk.h>
#include <qs/echo.h>
#include <qs/fs.h>
#include <qs/tm.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "fuzz.h"

#define MAX_TARGETS 32
#define IDS 16

/* The protocols we know the shape of. */
enum { P_NONE, P_TM, P_TMNET, P_DEATHS, P_AGENT, P_FS, P_WM, P_DISK, P_CM,
       P_ECHO, P_COUNTER, P_RQ, P_PMEM };

static const struct {
	const char *name; /* a queue name, or a prefix ending in '.' */
	int proto;
	uint32_t nops;    /* opcodes 1..nops-1 are the protocol's */
} PROTOS[] = {
	{ TM_QUEUE, P_TM, TM_OP_TAKEOVER + 1 },
	{ TM_NET_QUEUE, P_TMNET, TM_OP_NODE + 1 },
	{ QS_DEATH_QUEUE, P_DEATHS, QS_NOTICE_DEATH + 1 },
	{ QS_NET_QUEUE, P_AGENT, QS_NOTICE_LOOKUP + 1 },
	{ FS_QUEUE, P_FS, FS_OP_LOG + 1 },
	{ WM_QUEUE, P_WM, WM_OP_RAISE + 1 },
	{ DISK_QUEUE, P_DISK, DISK_OP_STATS + 1 },
	{ CM_QUEUE, P_CM, CM_OP_TX_UNMARK + 1 },
	{ ECHO_QUEUE, P_ECHO, ECHO_OP_UPPER + 1 },
	{ COUNTER_QUEUE, P_COUNTER, COUNTER_OP_RESET + 1 },
	{ TM_RQ_PREFIX, P_RQ, TM_NOTE_ABORT + 1 },
	/* disktest pmemd, a test hook: its three operations write the
	 * persistent memory's test area for seconds and print; only other
	 * opcodes and sizes are sent (srv_build) */
	{ "disktest.pmem", P_PMEM, 4 },
};

typedef struct {
	int qid;
	int proto;
	uint32_t nops;
} target_t;

static target_t targets[MAX_TARGETS];
static volatile int ntargets;
static volatile uint32_t ids[IDS]; /* handles, window ids... answers gave */

static int
proto_of(const char *name, uint32_t *nops)
{
	for (size_t i = 0; i < sizeof(PROTOS) / sizeof(PROTOS[0]); i++) {
		size_t n = strlen(PROTOS[i].name);
		if (PROTOS[i].name[n - 1] == '.' ? strncmp(name, PROTOS[i].name, n) == 0
						 : strcmp(name, PROTOS[i].name) == 0) {
			*nops = PROTOS[i].nops;
			return PROTOS[i].proto;
		}
	}
	*nops = 8;
	return P_NONE;
}

/* A fuzz process's queues are not servers (the parent's, a sibling's). */
void
srv_refresh(void)
{
	static qs_proc_info_t procs[64];
	static qs_sq_info_t qs[64];
	int np = qs_proc_list(procs, 64), nq = qs_sq_list(qs, 64), n = 0;
	for (int i = 0; i < nq && n < MAX_TARGETS; i++) {
		int fuzz = 0;
		for (int j = 0; j < np; j++)
			if (procs[j].pid == qs[i].owner)
				fuzz = strcmp(procs[j].name, "fuzz") == 0;
		if (fuzz || qs[i].qid == ctl_qid)
			continue;
		targets[n].qid = qs[i].qid;
		targets[n].proto = proto_of(qs[i].name, &targets[n].nops);
		n++;
	}
	ntargets = n;
}

int
srv_queue(uint32_t qid)
{
	for (int i = 0; i < ntargets; i++)
		if ((uint32_t)targets[i].qid == qid)
			return 1;
	return 0;
}

/* What a server's answer gave that a later request may name. */
void
srv_answer(uint32_t qid, int32_t status, uint32_t rbuf, uint32_t cap)
{
	if (!srv_queue(qid) || status < 0)
		return;
	uint32_t i = rnd() % IDS;
	ids[i] = (uint32_t)status;
	if (valid(rbuf, cap, 0) == V_YES && cap >= sizeof(qs_msg_hdr_t) + 4) {
		const qs_msg_t *m = (const qs_msg_t *)rbuf;
		if (m->hdr.len >= 4 && !(m->hdr.flags & QS_MSG_TRUNC))
			ids[(i + 1) % IDS] = *(const uint32_t *)m->data;
	}
}

/* ---- fields ------------------------------------------------------------- */

#define B(n) below_of(r, (n))

static uint32_t
edge32(uint64_t *r)
{
	static const uint32_t e[] = { 0, 1, 2, 3, 7, 8, 16, 63, 64, 127, 128,
				      255, 256, 4095, 4096, 65535, 65536,
				      0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
				      0xFFFFFFFE };
	return e[B(sizeof(e) / sizeof(e[0]))];
}

/* A number a server may know: an id an answer gave, small, an edge. */
static uint32_t
id_field(uint64_t *r)
{
	switch (B(5)) {
	case 0: case 1: return ids[B(IDS)];
	case 2: return B(300);
	case 3: return edge32(r);
	default: return rnd_of(r);
	}
}

static uint64_t
tx_field(uint64_t *r)
{
	static qs_node_info_t ni;
	if (!ni.hz)
		qs_node_info(&ni);
	switch (B(7)) {
	case 0: case 1: return qs_tx_get();                /* the one we are under */
	case 6: return txs[B(10)];                         /* ours */
	case 2: return QS_TX(ni.node_id, ni.incarnation, B(400)); /* anyone's */
	case 3: return QS_TX(B(4), B(4), B(400));           /* other nodes' */
	case 4: return 0;
	default: return (uint64_t)rnd_of(r) << 32 | rnd_of(r);
	}
}

static uint32_t
node_field(uint64_t *r)
{
	return B(4) ? B(4) : B(2) ? edge32(r) : CM_NODES_MAX - 1 + B(3);
}

/* Paths: a few names under /fz (the parent removes what is left), the
 * root, dots, and the length edges. */
static uint32_t
path_field(uint64_t *r, char *out, uint32_t room)
{
	static const char *const p[] = {
		"/fz", "/fz/a", "/fz/b", "/fz/a/b", "fz/a", "//fz//b/", "/fz/a/b/c",
		"/", "", ".", "..", "/fz/.", "/fz/..", "/nosuch/a", "/fz/a/./b",
		"/fz/twenty-seven-characters-x", "/fz/twenty-eight-characters-xy",
	};
	uint32_t n;
	if (B(8) == 0) { /* long, maybe without its NUL */
		n = B(2) ? FS_PATH_MAX - 1 + B(3) : B(room);
		n = n < room ? n : room;
		memset(out, B(2) ? '/' : 'a' + B(26), n);
		if (n)
			out[0] = '/';
		if (B(2) && n < room)
			out[n++] = 0;
		return n;
	}
	const char *s = p[B(sizeof(p) / sizeof(p[0]))];
	n = (uint32_t)strlen(s) + 1;
	n = n < room ? n : room;
	memcpy(out, s, n);
	return n;
}

/* A queue name for FS_OP_LOG and kernel.net's lookups. */
static uint32_t
qname_field(uint64_t *r, char *out)
{
	static const char *const q[] = {
		"wm", "wm@0", "wm@1", "wm@253", "wm@254", "wm@01", "wm@", "wmx",
		"fs", "tm@0", "echo@2", "nosuch", "", "tx.rq.1", "fz@1",
		"thirty-one-characters-long-xxxx",
	};
	const char *s = q[B(sizeof(q) / sizeof(q[0]))];
	uint32_t n = (uint32_t)strlen(s) + 1;
	memcpy(out, s, n);
	return n;
}

static uint32_t
bytes(uint64_t *r, uint8_t *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		out[i] = (uint8_t)(B(4) ? 'a' + B(26) : rnd_of(r));
	return n;
}

/* ---- bodies, by protocol ------------------------------------------------ */

static uint32_t
tm_body(uint64_t *r, uint32_t op, uint8_t *d)
{
	uint64_t tx = tx_field(r);
	switch (op) {
	case TM_OP_BEGIN: case TM_OP_STATS: return 0;
	case TM_OP_COMMIT: case TM_OP_ABORT: case TM_OP_OUTCOME:
	case TM_OP_PREPARE:
		memcpy(d, &tx, 8);
		return 8;
	case TM_OP_JOIN: {
		uint32_t q = B(4) ? (uint32_t)rq_qid : B(2) ? (uint32_t)own_q[B(MAX_QUEUES)]
						    : id_field(r);
		tm_join_t j = { (int32_t)(B(4) ? B(3) : edge32(r)), (int32_t)q };
		memcpy(d, &j, sizeof(j));
		return sizeof(j);
	}
	case TM_OP_LIST: {
		uint32_t first = B(2) ? B(4) : edge32(r);
		memcpy(d, &first, 4);
		return B(2) ? 4 : 0;
	}
	case TM_OP_END: {
		tm_end_t e = { tx, (int32_t)(B(2) ? 1 + B(2) : edge32(r)) };
		memcpy(d, &e, sizeof(e));
		return sizeof(e);
	}
	case TM_OP_DELEGATE: {
		tm_delegate_t g = { tx, node_field(r) };
		memcpy(d, &g, sizeof(g));
		return sizeof(g);
	}
	case TM_OP_TAKEOVER: {
		int32_t v = (int32_t)(B(2) ? B(3) : edge32(r));
		memcpy(d, &v, 4);
		return 4;
	}
	default: return 0;
	}
}

static uint32_t
tmnet_body(uint64_t *r, uint32_t op, uint8_t *d)
{
	if (op == TM_OP_EDGE) {
		tm_edge_t e = { tx_field(r), node_field(r), B(3), B(2), B(4) };
		memcpy(d, &e, sizeof(e));
		return sizeof(e);
	}
	tm_node_event_t n = { node_field(r), B(4), B(4) };
	memcpy(d, &n, sizeof(n));
	return sizeof(n);
}

static uint32_t
fs_body(uint64_t *r, uint32_t op, uint8_t *d)
{
	switch (op) {
	case FS_OP_OPEN: {
		fs_open_t *o = (fs_open_t *)d;
		memset(o, 0, sizeof(*o));
		o->flags = B(4) ? B(8) : edge32(r);
		path_field(r, o->path, sizeof(o->path));
		return sizeof(*o);
	}
	case FS_OP_READ: case FS_OP_WRITE: {
		fs_io_t io = { id_field(r), B(2) ? B(64) : B(4) ? B(FS_IO_MAX + 2) : edge32(r) };
		memcpy(d, &io, sizeof(io));
		uint32_t n = sizeof(io);
		if (op == FS_OP_WRITE) {
			uint32_t len = io.len <= FS_IO_MAX ? io.len : B(64);
			n += bytes(r, d + n, B(4) ? len : B(FS_IO_MAX + 1));
		}
		return n;
	}
	case FS_OP_SEEK: {
		fs_seek_t s = { id_field(r), (int32_t)(B(2) ? B(8192) : edge32(r)),
				B(4) ? B(3) : edge32(r) };
		memcpy(d, &s, sizeof(s));
		return sizeof(s);
	}
	case FS_OP_CLOSE: {
		uint32_t h = id_field(r);
		memcpy(d, &h, 4);
		return 4;
	}
	case FS_OP_UNLINK: case FS_OP_MKDIR: case FS_OP_STAT:
		return path_field(r, (char *)d, QS_MSG_INLINE);
	case FS_OP_READDIR: {
		fs_readdir_t *rd = (fs_readdir_t *)d;
		memset(rd, 0, sizeof(*rd));
		rd->first = B(2) ? 0 : id_field(r);
		path_field(r, rd->path, sizeof(rd->path));
		return sizeof(*rd);
	}
	case FS_OP_LOG: return qname_field(r, (char *)d);
	default: return 0;
	}
}

static uint32_t
wm_body(uint64_t *r, uint32_t op, uint8_t *d)
{
	int32_t id = (int32_t)id_field(r);
	switch (op) {
	case WM_OP_CREATE:
		return bytes(r, d, 1 + (B(4) ? B(40) : B(QS_MSG_INLINE)));
	case WM_OP_WRITE:
		memcpy(d, &id, 4);
		return 4 + bytes(r, d + 4, B(4) ? B(200) : B(QS_MSG_INLINE - 3));
	case WM_OP_CLEAR: case WM_OP_CLOSE: case WM_OP_RAISE:
		memcpy(d, &id, 4);
		return 4;
	default: return 0;
	}
}

static uint32_t
disk_body(uint64_t *r, uint32_t op, uint8_t *d, uint32_t *ool_len)
{
	static const char *const regions[] = { "log.node", "tm.log", "fs.log" /* gone */,
		"fs.seg", "rvm.log", "rvm.seg", "spare", "nosuch", "",
		"fifteen-chars-x", "sixteen-chars-xy" };
	disk_io_t io = { B(2) ? B(8) : id_field(r), B(2) ? B(4096) : edge32(r),
			 B(2) ? 1 + B(DISK_IO_MAX) : edge32(r) };
	switch (op) {
	case DISK_OP_OPEN: {
		const char *s = regions[B(sizeof(regions) / sizeof(regions[0]))];
		uint32_t n = (uint32_t)strlen(s) + 1;
		memcpy(d, s, n);
		return n;
	}
	case DISK_OP_READ: case DISK_OP_WRITE:
		memcpy(d, &io, sizeof(io));
		if (op == DISK_OP_WRITE)
			*ool_len = io.count <= DISK_IO_MAX && B(2)
					   ? io.count * DISK_SECTOR : B(QS_MSG_OOL_MAX + 1);
		return sizeof(io);
	case DISK_OP_FLUSH:
		memcpy(d, &io.region, 4);
		return 4;
	default: return 0;
	}
}

static uint32_t
cm_body(uint64_t *r, uint32_t op, uint8_t *d)
{
	switch (op) {
	case CM_OP_RAW_SEND: return bytes(r, d, B(2) ? 60 : B(1600));
	case CM_OP_PING: {
		/* a node that does not answer holds the CM's thread a second:
		 * mostly this one, or a seq it refuses at once */
		cm_ping_t p = { B(4) ? 0 : node_field(r),
				B(2) ? 1 + B(0xFFFF) : B(2) ? 0 : edge32(r) };
		memcpy(d, &p, sizeof(p));
		return sizeof(p);
	}
	case CM_OP_UDP_ECHO: {
		cm_udp_echo_t u = { node_field(r), B(2) ? B(4) : edge32(r) };
		memcpy(d, &u, sizeof(u));
		return sizeof(u);
	}
	case CM_OP_TX_MARK: case CM_OP_TX_UNMARK: {
		uint64_t tx = tx_field(r);
		memcpy(d, &tx, 8);
		return 8;
	}
	default: return 0;
	}
}

static uint32_t
body(uint64_t *r, const target_t *t, uint32_t op, uint8_t *d, uint32_t *ool_len)
{
	switch (t->proto) {
	case P_TM: return tm_body(r, op, d);
	case P_TMNET: return tmnet_body(r, op, d);
	case P_DEATHS: {
		qs_death_notice_t n = { (int32_t)id_field(r), (int32_t)id_field(r),
					tx_field(r), "fuzz" };
		memcpy(d, &n, sizeof(n));
		return sizeof(n);
	}
	case P_AGENT: return qname_field(r, (char *)d);
	case P_FS: return fs_body(r, op, d);
	case P_WM: return wm_body(r, op, d);
	case P_DISK: return disk_body(r, op, d, ool_len);
	case P_CM: return cm_body(r, op, d);
	case P_ECHO:
		*ool_len = B(4) ? 0 : B(4) ? B(512) : B(QS_MSG_OOL_MAX + 1);
		return bytes(r, d, B(2) ? B(64) : B(QS_MSG_INLINE + 1));
	case P_COUNTER: {
		uint64_t id = B(2) ? B(64) : (uint64_t)rnd_of(r) << 32 | rnd_of(r);
		memcpy(d, &id, 8);
		return op == COUNTER_OP_INC ? 8 : 0;
	}
	case P_RQ: return 0;
	default: return B(2) ? 0 : bytes(r, d, B(64));
	}
}

/* Cut, stretched, a byte changed: what a buggy client sends. */
static void
mutate(uint64_t *r, qs_msg_hdr_t *h, uint8_t *d)
{
	switch (B(8)) {
	case 0: if (h->len) d[B(h->len)] ^= (uint8_t)(1u << B(8)); break;
	case 1: if (h->len) d[B(h->len)] = (uint8_t)edge32(r); break;
	case 2: h->len = h->len ? B(h->len) : 0; break;       /* truncated */
	case 3: h->len += 1 + B(8); break;                    /* a tail */
	case 4: h->len = B(QS_MSG_INLINE + 1); break;         /* any size */
	case 5: h->ool_len = 1 + B(4096); break;              /* unexpected */
	case 6: h->opcode = B(2) ? 0 : h->opcode + 1; break;
	default: if (h->len >= 4) memcpy(d + B(h->len - 3), &(uint32_t){ edge32(r) }, 4);
	}
}

/*
 * A request for a server into m, its out-of-line bytes (if any) at ool
 * (room for ool_room bytes): returns its queue's id, or 0 if the node has
 * no server we may fuzz.
 */
int
srv_build(uint64_t *r, qs_msg_t *m, uint8_t *ool, uint32_t ool_room)
{
	int n = ntargets;
	if (!n)
		return 0;
	const target_t *t = &targets[B((uint32_t)n)];
	qs_msg_hdr_t *h = &m->hdr;
	memset(h, 0, sizeof(*h));
	/* the kernel stamps these: garbage must make no difference */
	if (B(4) == 0) {
		h->rid = rnd_of(r);
		h->txid = tx_field(r);
		h->src_node = B(4);
		h->src_pid = (int32_t)B(4);
		h->src_rights = rnd_of(r);
		h->status = (int32_t)rnd_of(r);
		h->flags = B(2) ? rnd_of(r) : QS_MSG_TRUNC;
	}
	if (t->proto != P_NONE && B(2)) {
		/* a client's life with the TM: begin, join, commit, abort */
		static const uint8_t tm_ops[] = { TM_OP_BEGIN, TM_OP_BEGIN, TM_OP_JOIN,
						  TM_OP_JOIN, TM_OP_JOIN, TM_OP_COMMIT,
						  TM_OP_COMMIT, TM_OP_ABORT };
		h->opcode = t->proto == P_TM && B(2) ? tm_ops[B(sizeof(tm_ops))]
						     : 1 + B(t->nops - 1);
		h->len = body(r, t, h->opcode, m->data, &h->ool_len);
		if (B(3) == 0)
			mutate(r, h, m->data);
	} else {
		h->opcode = B(2) ? B(t->nops + 2) : edge32(r);
		h->len = B(2) ? B(64) : B(QS_MSG_INLINE + 1);
		bytes(r, m->data, h->len);
		h->ool_len = B(4) ? 0 : B(4) ? B(512) : B(QS_MSG_OOL_MAX + 1);
	}
	if (t->proto == P_PMEM && h->opcode >= 1 && h->opcode < t->nops)
		h->opcode = B(2) ? 0 : t->nops + B(8);
	/* the kernel's own checks of sizes are fuzzed elsewhere (msg()) */
	h->len = h->len < QS_MSG_INLINE ? h->len : QS_MSG_INLINE;
	h->ool_len = h->ool_len < ool_room ? h->ool_len : ool_room;
	if (h->ool_len) {
		bytes(r, ool, h->ool_len < 64 ? h->ool_len : 64);
		h->ool = U(ool);
	}
	return t->qid;
}
