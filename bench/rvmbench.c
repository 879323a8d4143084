/*
 * rvmbench: RVM's cost per transaction, on the LRVM paper's shape (TPC-A
 * like): each transaction updates three 128-byte ranges at random in a
 * segment much larger than them (8,192 accounts of 128 bytes, 1 MiB) and
 * appends 64 bytes to a history. Under `make bench` (-icount shift=0) rdtsc
 * counts guest instructions. Modes: LRVM with flush commits, LRVM with
 * no-flush commits (one rvm_flush at the end, counted), Vista; then the
 * truncation of the no-flush run's log, per KiB of it: rdtsc, which counts
 * the disk server polling while QEMU does the host I/O too, and the disk
 * requests and sectors, which do not depend on the host. Started by init
 * (bench-rvm.conf); prints "bench: METRIC VALUE" lines, then powers the
 * node off.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/disk.h>
#include <qs/rvm.h>
#include <qs/sys.h>
#include "halt.h"

#define ACCOUNTS 8192
#define ACCOUNT 128
#define HISTORY (64 * 1024)
#define SEG_LEN (ACCOUNTS * ACCOUNT + HISTORY)
#define UNDO_LEN (256 * 1024)
#define TXS 200

static uint32_t seed = 12345;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static uint64_t
disk_writes(void)
{
	static disk_stats_t s;
	return disk_stats(&s) == 0 ? s.writes : 0;
}

/* The disk server's requests and sectors so far (out: both). */
static void
disk_io(uint64_t *ios, uint64_t *sectors)
{
	static disk_stats_t s;
	if (disk_stats(&s) < 0)
		memset(&s, 0, sizeof(s));
	*ios = s.reads + s.writes + s.flushes;
	*sectors = s.sectors_read + s.sectors_written;
}

/* Truncates the log the no-flush run left. */
static void
truncate_log(void)
{
	rvm_options_t o;
	uint64_t ios0, sect0, ios1, sect1;
	memset(&o, 0, sizeof(o));
	rvm_query(&o, NULL);
	uint64_t kb = o.log_used / 1024;
	disk_io(&ios0, &sect0);
	uint64_t t0 = qs_rdtsc();
	rvm_truncate();
	uint64_t t1 = qs_rdtsc();
	disk_io(&ios1, &sect1);
	if (!kb)
		return;
	printf("bench: rvm.truncate.instr_per_kb %u\n", (unsigned)((t1 - t0) / kb));
	printf("bench: rvm.truncate.disk_ios_per_kb_x100 %u\n",
	       (unsigned)((ios1 - ios0) * 100 / kb));
	printf("bench: rvm.truncate.sectors_per_kb_x100 %u\n",
	       (unsigned)((sect1 - sect0) * 100 / kb));
}

static uint8_t *
start(bool vista)
{
	rvm_options_t o;
	memset(&o, 0, sizeof(o));
	o.log_dev = vista ? "pmem.rvm" : "rvm.log";
	o.flags = vista ? RVM_VISTA : 0;
	rvm_dev_t *d = rvm_dev_open(o.log_dev, vista);
	if (!d)
		return NULL;
	uint64_t len = vista ? UNDO_LEN : d->size;
	d->close(d);
	static rvm_region_t reg;
	reg = (rvm_region_t){ vista ? "pmem.rvm" : "rvm.seg", vista ? UNDO_LEN : 0,
			      SEG_LEN, NULL };
	if (rvm_create_log(&o, len) != RVM_SUCCESS ||
	    rvm_initialize("qs", &o) != RVM_SUCCESS || rvm_map(&reg, NULL) != RVM_SUCCESS)
		return NULL;
	return reg.vmaddr;
}

/* One TPC-A-like transaction. */
static int
tx(uint8_t *seg, uint32_t n, rvm_mode_t end)
{
	rvm_tid_t t;
	if (rvm_begin_transaction(&t, RVM_RESTORE) != RVM_SUCCESS)
		return -1;
	for (int i = 0; i < 3; i++) {
		uint8_t *a = seg + (rnd() % ACCOUNTS) * ACCOUNT;
		if (rvm_set_range(&t, a, ACCOUNT) != RVM_SUCCESS)
			return -1;
		memset(a, (int)n, ACCOUNT);
	}
	uint8_t *h = seg + ACCOUNTS * ACCOUNT + (n * 64) % HISTORY;
	if (rvm_set_range(&t, h, 64) != RVM_SUCCESS)
		return -1;
	memset(h, (int)n, 64);
	return rvm_end_transaction(&t, end) == RVM_SUCCESS ? 0 : -1;
}

/* Instructions per transaction over TXS of them; disk writes per tx too. */
static void
run(const char *name, uint8_t *seg, rvm_mode_t end, bool flush_after)
{
	uint64_t w0 = disk_writes(), t0 = qs_rdtsc();
	for (uint32_t n = 0; n < TXS; n++)
		if (tx(seg, n, end) < 0) {
			printf("rvmbench: %s: transaction %u failed\n", name, n);
			return;
		}
	if (flush_after && rvm_flush() != RVM_SUCCESS)
		return;
	uint64_t t1 = qs_rdtsc(), w1 = disk_writes();
	printf("bench: rvm.%s.instr_per_tx %u\n", name, (unsigned)((t1 - t0) / TXS));
	printf("bench: rvm.%s.disk_writes_per_tx_x100 %u\n", name,
	       (unsigned)((w1 - w0) * 100 / TXS));
}

int
main(void)
{
	uint8_t *seg = start(false);
	if (!seg) {
		printf("rvmbench: no LRVM devices (rvm.log, rvm.seg)\n");
		bench_halt();
	}
	run("flush", seg, RVM_FLUSH, false);
	rvm_truncate();
	run("noflush", seg, RVM_NO_FLUSH, true);
	truncate_log();
	rvm_terminate();

	if (!(seg = start(true))) {
		printf("rvmbench: no persistent memory (pmem.rvm)\n");
		bench_halt();
	}
	run("vista", seg, RVM_FLUSH, false);
	rvm_terminate();
	printf("bench: done\n");
	bench_halt();
}
