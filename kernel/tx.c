/*
 * The kernel side of transactions: ids, the stamp's syscalls, and who owns
 * what. Every thread has a current transaction, stamped on each request it
 * sends; it may switch only to one its process holds. The transaction
 * manager (the process that serves QS_DEATH_QUEUE) gives them meaning: it
 * asks who owns a transaction and says when one has ended.
 */
#include "kernel.h"
#include "boot.h"
#include "proc.h"
#include "sq.h"
#include "syscall.h"
#include "tx.h"

static uint32_t next_counter = 1;

/*
 * Aborted transactions, as the TM reports them (SYS_TX_END with aborted):
 * a request stamped with one is refused with QS_EABORTED, so that orphans
 * (work still running for a transaction that aborted, here or on another
 * node: the TM of every node in its tree hears of the abort) cannot act
 * for it. A direct-mapped table: one compare per request, and an abort
 * pushed out by another of the same slot is forgotten, which only lets an
 * orphan act again as it could before (its work is undone at the abort
 * either way).
 */
uint64_t tx_aborted_ids[TX_ABORTED_SLOTS];

uint64_t
tx_new_id(void)
{
	return QS_TX(boot_node_id(), boot_incarnation(), next_counter++);
}

static bool
tx_owned(proc_t *p, uint64_t tx)
{
	if (tx == 0)
		return false;
	if (tx == p->default_tx)
		return true;
	for (uint32_t i = 0; i < ARRAY_LEN(p->own_tx); i++)
		if (p->own_tx[i] == tx)
			return true;
	return false;
}

/* Held: its own, or one received in a request (tx_hold). */
bool
tx_held(proc_t *p, uint64_t tx)
{
	if (tx_owned(p, tx))
		return true;
	for (uint32_t i = 0; i < ARRAY_LEN(p->held_tx); i++)
		if (p->held_tx[i] == tx && tx != 0)
			return true;
	return false;
}

static bool
is_tm(void)
{
	return current->proc->pid == sq_tm_pid();
}

static int
tx_set(uint64_t tx)
{
	if (tx == 0)
		tx = current->proc->default_tx;
	if (!tx_held(current->proc, tx) && !sq_serving_tx(current, tx) &&
	    !is_tm())
		return QS_EPERM;
	current->tx = tx;
	current->tx_dead = tx_aborted(tx);
	return 0;
}

static int
tx_begin(uint32_t user_out)
{
	proc_t *p = current->proc;
	for (uint32_t i = 0; i < ARRAY_LEN(p->own_tx); i++) {
		if (p->own_tx[i])
			continue;
		uint64_t tx = tx_new_id();
		int r = copy_to_user(user_out, &tx, sizeof(tx));
		if (r < 0)
			return r;
		p->own_tx[i] = tx;
		current->tx = tx;
		current->tx_dead = false;
		return 0;
	}
	return QS_EAGAIN; /* too many open transactions */
}

/*
 * An ended transaction is forgotten: its owner can no longer switch to it,
 * and if it was the owner's default, the owner gets a fresh default, so
 * that what it does next is not part of what was aborted.
 */
/* Every thread of p under tx (or back to it after an upcall) is under an
 * aborted transaction: its requests are refused from now on. */
static bool
mark_aborted(proc_t *p, uint64_t tx)
{
	for (list_t *l = p->threads.next; l != &p->threads; l = l->next) {
		thread_t *t = list_entry(l, thread_t, proc_link);
		if (t->tx == tx)
			t->tx_dead = true;
		if (t->sq_saved_tx == tx)
			t->sq_saved_dead = true;
	}
	return false; /* every process */
}

static int
tx_end(uint64_t tx, bool was_aborted)
{
	if (!is_tm())
		return QS_EPERM;
	if (was_aborted && tx) {
		tx_aborted_ids[tx_aborted_slot(tx)] = tx;
		proc_search(mark_aborted, tx);
		sq_tx_aborted(tx); /* its callers waiting for answers */
	}
	proc_t *p = proc_search(tx_owned, tx);
	if (!p)
		return QS_ENOENT;
	for (uint32_t i = 0; i < ARRAY_LEN(p->own_tx); i++)
		if (p->own_tx[i] == tx)
			p->own_tx[i] = 0;
	if (p->default_tx == tx)
		p->default_tx = tx_new_id();
	/* its threads under it go back to the default */
	for (list_t *l = p->threads.next; l != &p->threads; l = l->next) {
		thread_t *t = list_entry(l, thread_t, proc_link);
		if (t->tx == tx) {
			t->tx = p->default_tx;
			t->tx_dead = false;
		}
		if (t->sq_saved_tx == tx) {
			t->sq_saved_tx = p->default_tx;
			t->sq_saved_dead = false;
		}
	}
	return 0;
}

/* A transaction id passed by value: low 32 bits in ebx, high in ecx. */
static uint64_t
frame_tx(const trap_frame_t *f)
{
	return ((uint64_t)f->ecx << 32) | f->ebx;
}

int
sys_tx_get(trap_frame_t *f)
{
	return copy_to_user(f->ebx, &current->tx, sizeof(current->tx));
}

int
sys_tx_set(trap_frame_t *f)
{
	return tx_set(frame_tx(f));
}

int
sys_tx_begin(trap_frame_t *f)
{
	return tx_begin(f->ebx);
}

int
sys_tx_owner(trap_frame_t *f)
{
	proc_t *owner = proc_search(tx_owned, frame_tx(f));
	return owner ? owner->pid : QS_ENOENT;
}

int
sys_tx_end(trap_frame_t *f)
{
	return tx_end(frame_tx(f), f->edx != 0);
}

int
sys_tx_alive(trap_frame_t *f)
{
	uint64_t tx = frame_tx(f);
	return tx_aborted(tx ? tx : current->tx) ? QS_EABORTED : 0;
}
