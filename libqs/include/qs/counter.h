/*
 * The counter server's protocol: queue "counter" (servers/counterd).
 *
 * A counter that detects double execution: every increment carries an id
 * the client makes unique, and the server remembers every id it has
 * executed. An id seen again is counted as a duplicate and still
 * increments, so a request run twice shows up in the state rather than
 * being hidden. With exactly-once delivery, `duplicates` must stay 0 and
 * `value` must equal the increments the clients saw acknowledged.
 *
 * Ids from `count` (apps/count.c) are
 *     node << 48 | (pid & 0xffff) << 32 | (incarnation & 0xff) << 24 | i
 * with i the increment's index in the run (so a run has at most 2^24 - 1
 * increments). A process is unique by its pid on a node until the node
 * restarts, which changes the incarnation (as transaction ids already
 * assume), so ids of different runs and nodes do not collide unless a node
 * spawns 65536 processes or restarts 256 times while the server keeps its
 * set.
 *
 * The clients: `counterd check` (COUNTER_OP_GET), `counterd reset`, and
 * `count N [WINDOW]` (pipelined increments); see servers/counterd/README.md.
 */
#ifndef QS_COUNTER_H
#define QS_COUNTER_H

#include <stdint.h>

#define COUNTER_QUEUE "counter"
#define COUNTER_IDS_MAX 1000000 /* ids the server can hold; then QS_ENOSPC */

/*
 * Errors: an unknown opcode gets QS_ENOSYS, a request with a wrong data
 * length or any out-of-line data QS_EINVAL; neither changes anything. An
 * increment with a new id when the server already holds COUNTER_IDS_MAX
 * ids (or cannot get memory for more) gets QS_ENOSPC and is not executed:
 * the server refuses rather than forget ids. Nothing else fails.
 */
enum {
	COUNTER_OP_INC = 1,   /* data: counter_inc_t -> uint64_t value after */
	COUNTER_OP_GET = 2,   /* no data -> counter_state_t */
	COUNTER_OP_RESET = 3, /* no data: value, ids and duplicates to 0 -> 0;
				 QS_EPERM without QS_RIGHT_ADMIN */
};

typedef struct {
	uint64_t id; /* chosen by the client, unique per increment */
} counter_inc_t;

typedef struct {
	uint64_t value;      /* increments executed, duplicates included */
	uint32_t ids;        /* distinct ids seen */
	uint32_t duplicates; /* increments whose id had been seen before */
} counter_state_t;

#endif
