/* The transaction stamp's syscalls: read and switch the current transaction. */
#include "kernel.h"
#include "proc.h"
#include "tx.h"

/* Held: the process's default, or one received in a request (tx_hold). */
bool
tx_held(proc_t *p, uint64_t tx)
{
	if (tx == p->default_tx)
		return true;
	for (uint32_t i = 0; i < ARRAY_LEN(p->held_tx); i++)
		if (p->held_tx[i] == tx && tx != 0)
			return true;
	return false;
}

static int
tx_set(uint32_t lo, uint32_t hi)
{
	uint64_t tx = ((uint64_t)hi << 32) | lo;
	if (!tx_held(current->proc, tx) && !sq_serving_tx(current, tx))
		return QS_EPERM;
	current->tx = tx;
	return 0;
}

void
tx_syscall(trap_frame_t *f)
{
	int r = QS_ENOSYS;
	if (f->eax == SYS_TX_GET)
		r = copy_to_user(f->ebx, &current->tx, sizeof(current->tx));
	else if (f->eax == SYS_TX_SET)
		r = tx_set(f->ebx, f->ecx);
	f->eax = (uint32_t)r;
}
