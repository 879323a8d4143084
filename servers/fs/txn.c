/*
 * The file server as a recoverable participant. A transaction that changes
 * something gets an RVM transaction (restore mode) and joins as recoverable:
 * at prepare its new values are forced to the log (rvm_prepare_transaction),
 * at commit the commit is forced too (the TM may forget the transaction once
 * everyone has acknowledged, so an unforced commit could later be presumed
 * aborted), at abort RVM puts the old values back.
 *
 * Isolation is by locks held to the end of the transaction: a file or
 * directory a transaction changed is locked; others get QS_EBUSY rather than
 * its uncommitted contents. Blocks a transaction freed stay reserved until
 * it ends, so an abort can give them back to their file.
 *
 * Handles belong to a transaction and are breadcrumbs of it.
 *
 * Each handle and each transaction's entry also remembers its client, the
 * process whose request made it, so that one client cannot take the whole
 * table (FS_CLIENT_HANDLES, FS_CLIENT_TXS): over its limit a request gets
 * QS_ELIMIT before it changes anything (fs_handle_room and fs_tx_room are
 * asked first), and others are served as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/abi.h>
#include <qs/tx.h>
#include "fs.h"

#define TX_MAX FS_TXS_MAX
#define ENDED_MAX 64
#define HANDLES_MAX FS_HANDLES_MAX

_Static_assert(HANDLES_MAX <= 256, "a handle's number has 8 bits of slot");

qs_mutex_t fs_lock = QS_MUTEX_INIT;

static fs_tx_t txs[TX_MAX];
static uint64_t *lock_owner; /* per inode: the transaction that changed it */
static uint64_t *reserved;   /* per block: the transaction that freed it */
static uint32_t ninodes, nblocks;
/* Transactions that ended lately: a request still in flight for one must
 * not start its changes afresh. */
static uint64_t ended[ENDED_MAX];
static uint32_t ended_next;
static uint32_t limited; /* requests refused for a client's limit */

static struct {
	bool used;
	uint8_t gen;
	fs_client_t client;
	struct fs_handle h;
} handles[HANDLES_MAX];

int
fs_txn_init(uint32_t inodes, uint32_t blocks)
{
	ninodes = inodes;
	nblocks = blocks;
	lock_owner = calloc(inodes, sizeof(*lock_owner));
	reserved = calloc(blocks, sizeof(*reserved));
	return lock_owner && reserved ? 0 : QS_ENOMEM;
}

static fs_tx_t *
tx_find(uint64_t tx)
{
	for (int i = 0; i < TX_MAX; i++)
		if (txs[i].tx == tx)
			return &txs[i];
	return NULL;
}

/*
 * Lets go of everything the transaction held: its locks (a request may
 * have taken some and then failed before changing anything, so there may
 * be locks without an fs_tx_t), its reserved blocks, its log window's
 * entry, its state.
 */
static void
tx_release(uint64_t tx)
{
	for (uint32_t i = 0; i < ninodes; i++)
		if (lock_owner[i] == tx)
			lock_owner[i] = 0;
	for (uint32_t b = 0; b < nblocks; b++)
		if (reserved[b] == tx)
			reserved[b] = 0;
	ended[ended_next++ % ENDED_MAX] = tx;
	fs_oplog_forget(tx);
	fs_tx_t *t = tx_find(tx);
	if (t)
		memset(t, 0, sizeof(*t));
}

/*
 * A transaction a crash left in doubt: its entry, marked prepared, so that
 * a request under it changes nothing more (fs_tx_get: QS_EBUSY); its locks
 * and reserved blocks are taken by fs_guard_range (recover.c: guard_in_doubt).
 */
void
fs_tx_in_doubt(uint64_t tx)
{
	fs_tx_t *t = tx_find(tx);
	if (!t && (t = tx_find(0)))
		t->tx = tx;
	if (t)
		t->prepared = true; /* tid stays 0: RVM knows it by tx alone */
}

void
fs_tx_resolved(uint64_t tx)
{
	tx_release(tx);
}

static int
on_prepare(uint64_t tx, void *arg)
{
	(void)arg;
	qs_mutex_lock(&fs_lock);
	fs_tx_t *t = tx_find(tx);
	int vote = QS_VOTE_READONLY;
	if (t && !t->failed &&
	    rvm_prepare_transaction(&t->tid, tx) == RVM_SUCCESS) {
		t->prepared = true;
		vote = QS_VOTE_YES;
	} else if (t) {
		printf("fs: cannot prepare a transaction: voting no\n");
		rvm_abort_transaction(&t->tid);
		tx_release(tx);
		vote = QS_VOTE_NO;
	} else {
		tx_release(tx); /* read-only: no more notices come */
	}
	qs_mutex_unlock(&fs_lock);
	return vote;
}

static void
on_end(uint64_t tx, int outcome, void *arg)
{
	(void)arg;
	qs_mutex_lock(&fs_lock);
	fs_tx_t *t = tx_find(tx);
	if (t) {
		rvm_return_t r = outcome == QS_TX_COMMITTED
			? rvm_end_transaction(&t->tid, RVM_FLUSH)
			: rvm_abort_transaction(&t->tid);
		if (r != RVM_SUCCESS)
			printf("fs: ending a transaction: %s\n", rvm_strerror(r));
	}
	tx_release(tx);
	qs_mutex_unlock(&fs_lock);
}

static const qs_tx_ops_t part_ops = { on_prepare, on_end, NULL };

int
fs_tx_join(uint64_t tx)
{
	int r = qs_tx_join(tx, QS_TX_RECOVERABLE, &part_ops);
	return r == QS_ENOENT ? QS_EABORTED : r;
}

uint32_t
fs_limited(void)
{
	return limited;
}

int
fs_tx_room(uint64_t tx, fs_client_t client)
{
	if (tx_find(tx))
		return 0;
	uint32_t n = 0;
	for (int i = 0; i < TX_MAX; i++)
		n += txs[i].tx && txs[i].client == client;
	if (n < FS_CLIENT_TXS)
		return 0;
	limited++;
	return QS_ELIMIT;
}

/* The transaction ended lately: its notices came already, so nothing it
 * takes now would ever be let go. */
static bool
tx_ended(uint64_t tx)
{
	for (int i = 0; i < ENDED_MAX; i++)
		if (ended[i] == tx)
			return true;
	return false;
}

int
fs_tx_get(uint64_t tx, fs_client_t client, fs_tx_t **out)
{
	fs_tx_t *t = tx_find(tx);
	if (!t) {
		if (tx_ended(tx))
			return QS_EABORTED;
		int r = fs_tx_room(tx, client);
		if (r < 0)
			return r;
		if (!(t = tx_find(0)))
			return QS_EBUSY; /* too many transactions at once */
		if (rvm_begin_transaction(&t->tid, RVM_RESTORE) != RVM_SUCCESS)
			return QS_ENOMEM;
		t->tx = tx;
		t->client = client;
	}
	if (t->prepared)
		return QS_EBUSY; /* it is being committed: no more changes */
	*out = t;
	return 0;
}

int
fs_mod(fs_tx_t *t, void *p, uint32_t len)
{
	rvm_return_t r = rvm_set_range(&t->tid, p, len);
	if (r == RVM_SUCCESS)
		return 0;
	t->failed = true;
	printf("fs: set_range: %s\n", rvm_strerror(r));
	return r == RVM_ENO_MEMORY ? QS_ENOMEM : QS_EIO;
}

int
fs_lock_read(uint64_t tx, uint32_t ino)
{
	return ino < ninodes && lock_owner[ino] && lock_owner[ino] != tx
		? QS_EBUSY : 0;
}

int
fs_lock_write(uint64_t tx, uint32_t ino)
{
	if (ino >= ninodes || (lock_owner[ino] && lock_owner[ino] != tx))
		return QS_EBUSY;
	/* A request that joined before its transaction ended, and got here
	 * after: a lock taken now would outlive the transaction. */
	if (!tx_find(tx) && tx_ended(tx))
		return QS_EABORTED;
	lock_owner[ino] = tx;
	return 0;
}

bool
fs_ino_locked(uint32_t ino)
{
	return ino < ninodes && lock_owner[ino] != 0;
}

bool
fs_block_reserved(uint32_t b)
{
	return b < nblocks && reserved[b] != 0;
}

void
fs_block_reserve(uint64_t tx, uint32_t b)
{
	if (b < nblocks)
		reserved[b] = tx;
}

uint32_t
fs_locks_held(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < ninodes; i++)
		n += lock_owner[i] != 0;
	return n;
}

uint32_t
fs_txs_open(void)
{
	uint32_t n = 0;
	for (int i = 0; i < TX_MAX; i++)
		n += txs[i].tx != 0;
	return n;
}

/* ---- handles -------------------------------------------------------- */

/* A handle's number: its slot and a generation, so a stale one is refused. */
static uint32_t
handle_number(int i)
{
	return (uint32_t)handles[i].gen << 8 | (uint32_t)i;
}

int
fs_handle_room(fs_client_t client)
{
	uint32_t n = 0;
	for (int i = 0; i < HANDLES_MAX; i++)
		n += handles[i].used && handles[i].client == client;
	if (n < FS_CLIENT_HANDLES)
		return 0;
	limited++;
	return QS_ELIMIT;
}

int
fs_handle_new(uint64_t tx, fs_client_t client, uint32_t ino)
{
	int r = fs_handle_room(client);
	if (r < 0)
		return r;
	for (int i = 0; i < HANDLES_MAX; i++) {
		if (handles[i].used)
			continue;
		handles[i].used = true;
		handles[i].gen = (uint8_t)(handles[i].gen + 1) ? handles[i].gen + 1 : 1;
		handles[i].client = client;
		handles[i].h = (struct fs_handle){ tx, ino, 0 };
		return (int)handle_number(i);
	}
	return QS_ENOSPC;
}

struct fs_handle *
fs_handle_get(uint64_t tx, uint32_t h)
{
	uint32_t i = h & 0xFF;
	if (i >= HANDLES_MAX || !handles[i].used || handle_number(i) != h ||
	    handles[i].h.tx != tx)
		return NULL;
	return &handles[i].h;
}

static void
handle_free(uint32_t h)
{
	handles[h & 0xFF].used = false;
}

/* The breadcrumb: the transaction ended with the handle still open. */
static void
handle_crumb(void *obj, uint64_t tx, int outcome)
{
	(void)outcome;
	qs_mutex_lock(&fs_lock);
	if (fs_handle_get(tx, (uint32_t)(uintptr_t)obj))
		handle_free((uint32_t)(uintptr_t)obj);
	qs_mutex_unlock(&fs_lock);
}

int
fs_handle_crumb(uint64_t tx, uint32_t h)
{
	int r = crumb_add(tx, handle_crumb, (void *)(uintptr_t)h);
	if (r < 0) {
		qs_mutex_lock(&fs_lock);
		if (fs_handle_get(tx, h))
			handle_free(h);
		qs_mutex_unlock(&fs_lock);
	}
	return r == QS_ENOENT ? QS_EABORTED : r;
}

int
fs_handle_close(uint64_t tx, uint32_t h)
{
	if (!fs_handle_get(tx, h))
		return QS_EBADF;
	handle_free(h);
	/* its crumb may be running now; it finds the handle gone */
	crumb_remove(tx, handle_crumb, (void *)(uintptr_t)h);
	return 0;
}

uint32_t
fs_handles_open(void)
{
	uint32_t n = 0;
	for (int i = 0; i < HANDLES_MAX; i++)
		n += handles[i].used;
	return n;
}

bool
fs_ino_open(uint32_t ino)
{
	for (int i = 0; i < HANDLES_MAX; i++)
		if (handles[i].used && handles[i].h.ino == ino)
			return true;
	return false;
}
