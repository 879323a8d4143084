/*
 * What CMs say to each other (servers/cm/rpc.c, names.c; besides heartbeats): UDP on port WIRE_PORT.
 * Every packet is a wire_hdr_t and `len` bytes after it. Fields are in the
 * nodes' own byte order: every node is i386.
 *
 *   REQ     a request for a queue on the receiving node: wire_msg_t, data,
 *           out-of-line data. seq numbers the sender's requests to that
 *           node in this incarnation of both, from 1.
 *   REP     the answer to REQ seq: wire_msg_t (status, flags), data, ool.
 *   ACK     nothing: says only `floor`, when the sender has no REQ to carry it.
 *   LOOKUP  a queue name (NUL-terminated), to dst or to every node (dst
 *           WIRE_ALL); seq is the asker's nonce.
 *   FOUND   int32_t qid on the answering node (or an error, to a LOOKUP
 *           sent to it alone), then the name; seq is the nonce.
 *
 * floor, in every packet: all the sender's requests to the receiver up to
 * this seq have had their answers, so the receiver may forget their replies
 * and treat them as duplicates from then on.
 *
 * What a receiver takes (servers/cm/README.md, "Bad input"): a REQ's seq
 * above its floor and within RPC_WINDOW of it; a floor below the REQ's seq
 * and no more than a window beyond everything heard from the sender; a
 * REP's seq among those sent; inline data of at most QS_MSG_INLINE bytes,
 * out-of-line of at most WIRE_PAYLOAD_MAX, both together at most
 * WIRE_PAYLOAD_MAX, adding up to `len` exactly; incarnations as membership
 * has them; and a REQ's qid only for a queue served on the receiving node
 * whose name is not local-only (wire_local_only).
 */
#ifndef QS_CMWIRE_H
#define QS_CMWIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <qs/abi.h>

#define WIRE_PORT 7071
#define WIRE_MAGIC 0x51535250u /* "QSRP" */
#define WIRE_VERSION 2
#define WIRE_ALL 0xFFFF
/* Data and out-of-line bytes of one remote request or reply, together. */
#define WIRE_PAYLOAD_MAX 8192

enum { PK_REQ = 1, PK_REP = 2, PK_ACK = 3, PK_LOOKUP = 4, PK_FOUND = 5 };

typedef struct {
	uint32_t magic;
	uint8_t version;
	uint8_t type;     /* PK_* */
	uint16_t src;     /* sending node */
	uint16_t dst;     /* receiving node, or WIRE_ALL */
	uint16_t pad;
	uint32_t src_inc; /* the sender's incarnation */
	uint32_t dst_inc; /* the receiver's, as the sender knows it; 0: any */
	uint32_t seq;
	uint32_t floor;
	uint32_t len;     /* bytes after this header */
} wire_hdr_t;

typedef struct {
	uint64_t txid;
	uint32_t qid;     /* REQ: the queue on the receiving node */
	uint32_t opcode;
	int32_t src_pid;  /* the client, on the sending node */
	int32_t status;   /* REP */
	uint32_t len;     /* data bytes, then ool_len bytes, follow */
	uint32_t ool_len;
	uint32_t flags;   /* REQ: the client's QS_MSG_SRC_*, as its kernel
	                     stamped them; REP: WIRE_F_* */
} wire_msg_t;

/* The TMs' piggyback on a REP: the transaction has a recoverable
 * participant on the answering node or below it in the tree. */
#define WIRE_F_RECOVERABLE 0x1

/*
 * Queues only this node's kernel and servers may reach, never another
 * node: the kernel's ("kernel.*": kernel.deaths, whose notices end
 * transactions, and kernel.net, the CM's own) and the TM's notices from its
 * CM (TM_NET_QUEUE, "tm.net"). A lookup from the wire does not find them
 * and a REQ naming one is refused (QS_EPERM), whatever qid it guesses.
 */
static inline bool
wire_local_only(const char *name)
{
	return strncmp(name, "kernel.", 7) == 0 || strcmp(name, "tm.net") == 0;
}

/*
 * Heartbeats (servers/cm/member.c): UDP broadcast to CM_PORT every
 * CM_HEARTBEAT_MS, in network byte order, sealed like every packet.
 */
#define HB_MAGIC 0x51534842u /* "QSHB" */
#define HB_VERSION 1

typedef struct {
	uint32_t magic;
	uint16_t version;
	uint16_t node;
	uint32_t incarnation;
	uint32_t seq; /* from 1 in each incarnation */
} heartbeat_t;

#endif
