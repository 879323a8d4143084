/*
 * The kernel side of transactions: every thread has a current transaction,
 * stamped on each request it sends, and may switch only to a transaction
 * its process holds. The transaction manager gives them meaning.
 */
#ifndef KERNEL_TX_H
#define KERNEL_TX_H

#include "proc.h"

bool tx_held(proc_t *p, uint64_t tx);
/* Aborted transactions, as the TM reported them (tx.c): a direct-mapped
 * table, looked at on every request's way. */
#define TX_ABORTED_SLOTS 1024
extern uint64_t tx_aborted_ids[TX_ABORTED_SLOTS];

static inline uint32_t
tx_aborted_slot(uint64_t tx)
{
	return ((uint32_t)tx ^ (uint32_t)(tx >> 32)) * 2654435761u >> 22;
}

/* The TM said so, and it is remembered. */
static inline bool
tx_aborted(uint64_t tx)
{
	return tx && tx_aborted_ids[tx_aborted_slot(tx)] == tx;
}
uint64_t tx_new_id(void); /* node, incarnation and the next counter */
bool sq_serving_tx(const thread_t *t, uint64_t tx);

/* Remembers a transaction received in a request; on the upcall path. */
static inline void
tx_hold(proc_t *p, uint64_t tx)
{
	/* a server mostly sees the same client's transaction again */
	if (p->held_tx[(p->held_next - 1) % ARRAY_LEN(p->held_tx)] == tx ||
	    tx_held(p, tx))
		return;
	p->held_tx[p->held_next++ % ARRAY_LEN(p->held_tx)] = tx;
}

#endif
