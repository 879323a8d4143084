/*
 * In-guest tests of libqs's RVM: `rvmtest lrvm` on the disk server's regions
 * rvm.log and rvm.seg, `rvmtest vista` on the persistent memory's region
 * pmem.rvm, `rvmtest node` with its redo records in the node log (log_dev
 * "node:rvmtest", the log manager's) and its segment on node.seg. Each run
 * of the first two writes a fresh log; the node log keeps what earlier
 * runs left, which recovery applies first. Started by init (rvm.conf),
 * which gives it the persistent memory's grants, and reserves the name
 * rvmtest (the node log's owner) for the node run. That run also checks
 * the log manager's force flags as an owner sees them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/rvm.h>
#include <qs/sys.h>
#define CHECK_PREFIX "rvmtest: "
#include "check.h"

#define SEG_LEN (64 * 1024)
#define UNDO_LEN (256 * 1024)

static bool vista, node;
static const char *log_dev, *seg_dev;

static void
opts(rvm_options_t *o)
{
	memset(o, 0, sizeof(*o));
	o->log_dev = log_dev;
	o->flags = vista ? RVM_VISTA : 0;
}

static rvm_options_t
query(void)
{
	rvm_options_t o;
	opts(&o);
	rvm_query(&o, NULL);
	return o;
}

static rvm_stats_t
stats(void)
{
	return query().stats;
}

static uint64_t
log_used(void)
{
	return query().log_used;
}

/* The syncs of the log so far: RVM's device's, or the node log's. */
static uint32_t
syncs(void)
{
	log_stats_t ls;
	if (!node)
		return stats().log_forces;
	return qs_log_stats(&ls) < 0 ? 0 : ls.forces;
}

/*
 * The log manager's force flags, as an owner (rvmtest) sees them: a group
 * force and a lazy one, each with a record to make durable, are answered
 * with no other force to share their flush, and counted; flags that mean nothing are refused and counted,
 * before anything is appended.
 */
static void
log_flags(void)
{
	uint32_t h;
	log_stats_t a, b;
	static const char data[] = "rvmtest: a record of the flags' checks";
	check(qs_log_open("rvmtest", &h, NULL) >= 0 && qs_log_stats(&a) >= 0,
	      "the node log: open as rvmtest (as RVM did)");
	check(qs_log_append(h, 0x7e, 1ull << 62, data, sizeof(data),
			    LOG_F_FORCE | LOG_F_GROUP, NULL) >= 0 &&
		      qs_log_append(h, 0x7e, 1ull << 62, data, sizeof(data), 0,
				    NULL) >= 0 &&
		      qs_log_force(h, 0, LOG_FORCE_GROUP) >= 0 &&
		      qs_log_append(h, 0x7e, 1ull << 62, data, sizeof(data), 0,
				    NULL) >= 0 &&
		      qs_log_force(h, 0, LOG_FORCE_LAZY) >= 0 &&
		      qs_log_stats(&b) >= 0 && b.group == a.group + 2 &&
		      b.lazy == a.lazy + 1 && b.forced == a.forced + 3,
	      "a group force and a lazy one, alone, are answered");
	check(qs_log_release(h, 1ull << 62, 1ull << 62) >= 0,
	      "their records released");
	qs_log_stats(&a);
	check(qs_log_append(h, 0x7e, 1ull << 62, data, sizeof(data),
			    LOG_F_GROUP, NULL) == QS_EINVAL &&
		      qs_log_append(h, 0x7e, 1ull << 62, data, sizeof(data),
				    0x4 | LOG_F_FORCE, NULL) == QS_EINVAL &&
		      qs_log_force(h, 0, LOG_FORCE_LAZY | LOG_FORCE_GROUP) ==
			      QS_EINVAL &&
		      qs_log_force(h, 0, 0x80) == QS_EINVAL &&
		      qs_log_stats(&b) >= 0 && b.appends == a.appends &&
		      b.refused == a.refused + 4,
	      "meaningless force flags refused, nothing appended");
}

/* One committed change: `len` bytes of `v` at p. */
static rvm_return_t
change(uint8_t *p, int v, uint32_t len, rvm_mode_t end)
{
	rvm_tid_t t;
	rvm_return_t r = rvm_begin_transaction(&t, RVM_RESTORE);
	if (r == RVM_SUCCESS)
		r = rvm_set_range(&t, p, len);
	if (r == RVM_SUCCESS) {
		memset(p, v, len);
		r = rvm_end_transaction(&t, end);
	}
	return r;
}

static bool
all(const uint8_t *p, int v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

int
main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";
	char summary[32];
	vista = strcmp(mode, "vista") == 0;
	node = strcmp(mode, "node") == 0;
	if (!vista && !node && strcmp(mode, "lrvm") != 0) {
		printf("usage: rvmtest lrvm|vista|node\n");
		return 2;
	}
	snprintf(summary, sizeof(summary), "rvmtest %s", mode);
	log_dev = vista ? "pmem.rvm" : node ? RVM_NODE_LOG "rvmtest" : "rvm.log";
	seg_dev = vista ? "pmem.rvm" : node ? "node.seg" : "rvm.seg";
	rvm_options_t o;
	opts(&o);
	uint64_t log_len = UNDO_LEN; /* Vista's; the node log is its own */
	if (!node) {
		rvm_dev_t *d = rvm_dev_open(log_dev, vista);
		check(d != NULL, "the log device is there");
		if (!d)
			return check_summary(summary);
		log_len = vista ? UNDO_LEN : d->size;
		d->close(d);
	}

	check(rvm_set_range(&(rvm_tid_t){ 1 }, &o, 4) != RVM_SUCCESS,
	      "nothing works before rvm_initialize");
	check(rvm_create_log(&o, log_len) == RVM_SUCCESS &&
		      rvm_initialize("qs", &o) == RVM_SUCCESS,
	      "create a log and initialize");
	check(rvm_initialize("qs", &o) == RVM_EINIT, "initialize twice refused");

	rvm_region_t reg = { seg_dev, vista ? UNDO_LEN : 0, SEG_LEN, NULL };
	rvm_region_t overlap = { seg_dev, reg.offset + 512, 512, NULL };
	rvm_region_t odd = { seg_dev, reg.offset + SEG_LEN + 100, 512, NULL };
	check(rvm_map(&reg, NULL) == RVM_SUCCESS && reg.vmaddr, "map a region");
	check(rvm_map(&overlap, NULL) == RVM_EREGION &&
		      rvm_map(&odd, NULL) == RVM_EREGION,
	      "overlapping or unaligned regions refused");
	if (vista) {
		rvm_region_t undo = { seg_dev, 0, 512, NULL };
		check(rvm_map(&undo, NULL) == RVM_EREGION,
		      "a region over the undo log refused");
	}
	uint8_t *seg = reg.vmaddr;

	rvm_stats_t s0 = stats();
	uint32_t f0 = syncs();
	check(change(seg, 0x11, 4096, RVM_FLUSH) == RVM_SUCCESS &&
		      all(seg, 0x11, 4096),
	      "a flush commit");
	rvm_stats_t s1 = stats();
	check(s1.commits_flush == s0.commits_flush + 1, "counted");
	if (vista)
		check(s1.log_writes == 0 && s1.log_forces == 0 && s1.undo_bytes > 0,
		      "Vista: no log write, no force, undo kept");
	else if (node)
		check(s1.log_forces == 0 && s1.log_writes == 0 && syncs() > f0,
		      "node log: the commit forced it (no device of RVM's)");
	else
		check(s1.log_forces > s0.log_forces && s1.log_writes > s0.log_writes,
		      "LRVM: the commit forced the log");

	rvm_tid_t t;
	rvm_begin_transaction(&t, RVM_RESTORE);
	rvm_set_range(&t, seg + 100, 200);
	memset(seg + 100, 0x77, 200);
	check(rvm_abort_transaction(&t) == RVM_SUCCESS && all(seg, 0x11, 4096),
	      "abort puts the old values back");
	check(rvm_end_transaction(&t, RVM_FLUSH) == RVM_ETID,
	      "an ended transaction is gone");

	rvm_begin_transaction(&t, RVM_NO_RESTORE);
	check(rvm_set_range(&t, seg + SEG_LEN, 8) == RVM_ERANGE &&
		      rvm_set_range(&t, &o, 8) == RVM_ERANGE,
	      "set_range outside the regions refused");
	check(rvm_abort_transaction(&t) == RVM_EMODE &&
		      rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS,
	      "no-restore cannot abort, but commits");
	check(rvm_begin_transaction(&t, RVM_FLUSH) == RVM_EMODE,
	      "a bad begin mode refused");

	if (!vista) {
		uint64_t before = log_used();
		rvm_stats_t a = stats();
		uint32_t fa = syncs();
		check(change(seg + 8192, 0x22, 128, RVM_NO_FLUSH) == RVM_SUCCESS &&
			      syncs() == fa,
		      "a no-flush commit does not force");
		check(rvm_flush() == RVM_SUCCESS && syncs() > fa &&
			      log_used() > before,
		      "rvm_flush writes it");
		check(rvm_truncate() == RVM_SUCCESS && log_used() < before &&
			      stats().truncations > a.truncations,
		      "truncation empties the log into the segment");
		rvm_region_t again = { seg_dev, 0, SEG_LEN, NULL };
		if (node)
			log_flags();
		check(rvm_unmap(&reg) == RVM_SUCCESS && rvm_map(&again, NULL) == RVM_SUCCESS &&
			      all(again.vmaddr, 0x11, 4096) &&
			      all((uint8_t *)again.vmaddr + 8192, 0x22, 128),
		      "mapped again: the segment holds the committed values");
		reg = again;
		seg = reg.vmaddr;
	}

	rvm_begin_transaction(&t, RVM_RESTORE);
	rvm_set_range(&t, seg + 300, 16);
	memset(seg + 300, 0x55, 16);
	check(rvm_prepare_transaction(&t, 0x1234) == RVM_SUCCESS &&
		      rvm_abort_transaction(&t) == RVM_SUCCESS && all(seg, 0x11, 4096),
	      "prepare, then abort: old values");
	rvm_begin_transaction(&t, RVM_RESTORE);
	rvm_set_range(&t, seg + 300, 16);
	memset(seg + 300, 0x55, 16);
	check(rvm_prepare_transaction(&t, 0x1235) == RVM_SUCCESS &&
		      rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS &&
		      all(seg + 300, 0x55, 16),
	      "prepare, then commit");
	o.n_in_doubt = 99;
	check(rvm_query(&o, NULL) == RVM_SUCCESS && o.n_in_doubt == 0 &&
		      o.n_uncommitted == 0,
	      "query: nothing open, nothing in doubt");
	check(rvm_resolve(0x999, 1) == RVM_ENOT_FOUND, "resolve of nothing refused");

	check(rvm_terminate() == RVM_SUCCESS && rvm_initialize("qs", &o) == RVM_SUCCESS,
	      "terminate and initialize again (recovery)");
	rvm_region_t back = { seg_dev, vista ? UNDO_LEN : 0, SEG_LEN, NULL };
	check(rvm_map(&back, NULL) == RVM_SUCCESS && all(back.vmaddr, 0x11, 300) &&
		      all((uint8_t *)back.vmaddr + 300, 0x55, 16),
	      "after recovery the committed values are there");
	rvm_terminate();
	return check_summary(summary);
}
