/*
 * What the TM's log (servers/tm/log.c) takes from the rest of the TM and
 * from the kernel, for test_tmlog: its lock and counters, the node's
 * incarnation (tm_stub_incarnation), the live records (tm_stub_recs),
 * participants' program names (1 "fs", 2 "wm"), error names, and exit.
 */
#include <stdio.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "../../servers/tm/tm.h"

qs_mutex_t tm_lock = QS_MUTEX_INIT;
tm_stats_t tm_stats;
uint32_t tm_stub_incarnation = 1;
tm_rec_t *tm_stub_recs;

tm_rec_t *
rec_first(void)
{
	return tm_stub_recs;
}

tm_rec_t *
rec_find(uint64_t tx)
{
	for (tm_rec_t *r = tm_stub_recs; r; r = r->next)
		if (r->tx == tx)
			return r;
	return NULL;
}

const char *
client_name_text(uint8_t name)
{
	return name == 1 ? "fs" : name == 2 ? "wm" : NULL;
}

uint32_t
rec_forcing_soon(uint64_t tx)
{
	(void)tx;
	return 0;
}

uint32_t
rec_preparing(uint64_t tx)
{
	(void)tx;
	return 0;
}

int
qs_node_info(qs_node_info_t *out)
{
	*out = (qs_node_info_t){ .node_id = 0,
				 .incarnation = tm_stub_incarnation };
	return 0;
}

char *
qs_tx_format(uint64_t tx, char buf[QS_TX_TEXT])
{
	snprintf(buf, QS_TX_TEXT, "%llx", (unsigned long long)tx);
	return buf;
}

const char *
qs_strerror(int err)
{
	static char b[16];
	snprintf(b, sizeof(b), "error %d", err);
	return b;
}

void _exit(int status) __attribute__((noreturn)); /* the host's */

/* The TM's fail-stop ends the test's process (a child, in the tests) at
 * once, as the TM's would: no exit handlers (the scratch directory's). */
void
qs_exit(int status)
{
	_exit(status);
}
