/*
 * TEMPORARY stand-in for libqs/src/tx.c, which is being written on main:
 * just enough of qs/tx.h for the window manager's branch to link and run.
 * Breadcrumbs are accepted and counted but never run (there is no
 * transaction manager yet). Delete this file when tx.c is merged.
 */
#include <stdio.h>
#include <qs/tx.h>

static int crumbs;

int
crumb_add(uint64_t tx, crumb_fn_t fn, void *obj)
{
	(void)tx, (void)fn, (void)obj;
	__atomic_fetch_add(&crumbs, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int
crumb_remove(uint64_t tx, crumb_fn_t fn, void *obj)
{
	(void)tx, (void)fn, (void)obj;
	__atomic_fetch_sub(&crumbs, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int
crumb_count(void)
{
	return __atomic_load_n(&crumbs, __ATOMIC_SEQ_CST);
}

char *
qs_tx_format(uint64_t tx, char buf[QS_TX_TEXT])
{
	snprintf(buf, QS_TX_TEXT, "%u.%u.%u", (unsigned)(tx >> 48),
		 (unsigned)((tx >> 32) & 0xFFFF), (unsigned)tx);
	return buf;
}
