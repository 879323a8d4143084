/*
 * The node log's client calls (qs/log.h) for host tests: the log manager's
 * store (servers/log/store.c) in the test's own process, over the file
 * "log.node", instead of requests to queue "log". One owner at a time, as
 * the TM is; log_local_reset() forgets the store (a restart). Forces flush
 * at once: there is no writer thread to share them.
 */
#include <string.h>
#include <qs/log.h>
#include "../../servers/log/store.h"
#include "log_local.h"

static store_t st;
static int open_ok;
static int fail_next; /* the next forced append's answer, after it */
static int fail_release; /* the next release's answer, instead of it */

void
log_local_fail_release(int err)
{
	fail_release = err;
}

void
log_local_fail_force(int err)
{
	fail_next = err;
}

void
log_local_reset(void)
{
	store_close(&st);
	open_ok = 0;
}

int
qs_log_open(const char *owner, uint32_t *handle, uint32_t *records)
{
	store_damage_t d;
	if (!open_ok) {
		int r = store_open(&st, rvm_dev_open(LOG_LOCAL_DEV, 0), &d);
		if (r == STORE_NEW && (r = store_format(st.dev)) == 0) {
			rvm_dev_t *dev = st.dev;
			st.dev = NULL;
			store_close(&st);
			r = store_open(&st, dev, &d);
		}
		if (r)
			return r > 0 ? QS_EIO : r;
		open_ok = 1;
	}
	int o = store_owner(&st, owner);
	if (o < 0)
		return QS_ELIMIT;
	*handle = (uint32_t)o;
	if (records)
		*records = 0;
	return 0;
}

int
qs_log_append(uint32_t handle, uint16_t kind, uint64_t key, const void *data,
	      uint32_t len, uint32_t flags, uint64_t *seq)
{
	int r = store_append(&st, (int)handle, kind, key, data, len, seq);
	if (!r && (flags & LOG_F_FORCE))
		r = store_flush(&st);
	if (!r && (flags & LOG_F_FORCE) && fail_next) {
		r = fail_next; /* appended and durable, yet the answer fails */
		fail_next = 0;
	}
	return r;
}

int
qs_log_force(uint32_t handle, uint64_t seq, uint32_t flags)
{
	(void)handle, (void)seq, (void)flags;
	return store_flush(&st);
}

int
qs_log_read(uint32_t handle, uint64_t after, log_rec_t *rec, void *data,
	    uint32_t cap)
{
	const lrec_t *r = store_next(&st, (int)handle, after);
	if (!r)
		return QS_ENOENT;
	lrec_t c = *r;
	int n = store_read(&st, &c, data, cap);
	if (n < 0)
		return n;
	*rec = (log_rec_t){ c.seq, c.key, c.kind, 0, (uint32_t)n };
	return 0;
}

int
qs_log_release(uint32_t handle, uint64_t key, uint64_t last)
{
	if (fail_release) {
		int r = fail_release;
		fail_release = 0;
		return r;
	}
	return store_release(&st, (int)handle, key, last);
}

int
qs_log_stats(log_stats_t *out)
{
	*out = st.stats;
	return 0;
}
