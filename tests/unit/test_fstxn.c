/*
 * Unit tests for the file server's transactions, locks and handles
 * (servers/fs/txn.c), with the TM and RVM stubbed here: qs_tx_join keeps
 * the participant's notices, which the tests deliver as the TM would.
 */
#include <qs/abi.h>
#include <qs/rvm.h>
#include <qs/tx.h>

#include "check.h"
#include "../../servers/fs/fs.h"

static const qs_tx_ops_t *ops; /* what the file server joined with */
static int joins;

int
qs_tx_join(uint64_t tx, int cls, const qs_tx_ops_t *o)
{
	(void)tx, (void)cls;
	ops = o;
	joins++;
	return 0;
}

int
crumb_add(uint64_t tx, crumb_fn_t fn, void *obj)
{
	(void)tx, (void)fn, (void)obj;
	return 0;
}

int
crumb_remove(uint64_t tx, crumb_fn_t fn, void *obj)
{
	(void)tx, (void)fn, (void)obj;
	return 0;
}

void
fs_oplog_forget(uint64_t tx)
{
	(void)tx;
}

rvm_return_t
rvm_begin_transaction(rvm_tid_t *tid, rvm_mode_t mode)
{
	(void)tid, (void)mode;
	return RVM_SUCCESS;
}

rvm_return_t
rvm_set_range(rvm_tid_t *tid, void *dest, uint32_t length)
{
	(void)tid, (void)dest, (void)length;
	return RVM_SUCCESS;
}

rvm_return_t
rvm_end_transaction(rvm_tid_t *tid, rvm_mode_t mode)
{
	(void)tid, (void)mode;
	return RVM_SUCCESS;
}

rvm_return_t
rvm_abort_transaction(rvm_tid_t *tid)
{
	(void)tid;
	return RVM_SUCCESS;
}

rvm_return_t
rvm_prepare_transaction(rvm_tid_t *tid, uint64_t gtid)
{
	(void)tid, (void)gtid;
	return RVM_SUCCESS;
}

const char *
rvm_strerror(rvm_return_t r)
{
	(void)r;
	return "stub";
}

#define CLIENT 7

static void
setup(void)
{
	static bool done;
	if (!done)
		CHECK(fs_txn_init(16, 64) == 0);
	done = true;
}

/* A transaction's locks go at its end, whichever way it ends. */
static void
test_locks_go_at_the_end(void)
{
	setup();
	fs_tx_t *t;
	CHECK(fs_tx_join(100) == 0 && ops);
	CHECK(fs_lock_write(100, 3) == 0);
	CHECK(fs_tx_get(100, CLIENT, &t) == 0);
	CHECK(fs_lock_write(101, 3) == QS_EBUSY);
	CHECK(fs_lock_read(101, 3) == QS_EBUSY && fs_lock_read(100, 3) == 0);
	CHECK(fs_locks_held() == 1 && fs_txs_open() == 1);
	ops->end(100, QS_TX_ABORTED, NULL);
	CHECK(fs_locks_held() == 0 && fs_txs_open() == 0);
	CHECK(fs_lock_write(101, 3) == 0);
	ops->end(101, QS_TX_COMMITTED, NULL);
	CHECK(fs_locks_held() == 0);
}

/* A request joined, then its transaction ended before the request took the
 * file server's lock: what it takes now would outlive the transaction, so
 * it is refused, and nothing is left (the campaign found a lock left so). */
static void
test_a_request_after_its_transaction_ended_takes_nothing(void)
{
	setup();
	fs_tx_t *t;
	CHECK(fs_tx_join(200) == 0);
	ops->end(200, QS_TX_ABORTED, NULL); /* the abort overtakes it */
	CHECK(fs_lock_write(200, 4) == QS_EABORTED);
	CHECK(fs_tx_get(200, CLIENT, &t) == QS_EABORTED);
	CHECK(fs_locks_held() == 0 && fs_txs_open() == 0);
	CHECK(fs_lock_write(201, 4) == 0); /* another may have it */
	ops->end(201, QS_TX_ABORTED, NULL);
	CHECK(fs_locks_held() == 0);
}

/* A lock taken before the entry is made (the entry then failed: too many
 * transactions) still goes when the transaction ends. */
static void
test_a_lock_without_an_entry_goes_at_the_end(void)
{
	setup();
	CHECK(fs_lock_write(300, 5) == 0);
	CHECK(fs_locks_held() == 1 && fs_txs_open() == 0);
	ops->end(300, QS_TX_ABORTED, NULL);
	CHECK(fs_locks_held() == 0);
}

/* Prepared, a transaction changes nothing more; its vote is yes. */
static void
test_a_prepared_transaction_takes_no_more_changes(void)
{
	setup();
	fs_tx_t *t;
	CHECK(fs_lock_write(400, 6) == 0 && fs_tx_get(400, CLIENT, &t) == 0);
	CHECK(ops->prepare(400, NULL) == QS_VOTE_YES);
	CHECK(fs_tx_get(400, CLIENT, &t) == QS_EBUSY);
	ops->end(400, QS_TX_COMMITTED, NULL);
	CHECK(fs_locks_held() == 0 && fs_txs_open() == 0);
}

int
main(void)
{
	RUN(test_locks_go_at_the_end);
	RUN(test_a_request_after_its_transaction_ended_takes_nothing);
	RUN(test_a_lock_without_an_entry_goes_at_the_end);
	RUN(test_a_prepared_transaction_takes_no_more_changes);
	return check_summary();
}
