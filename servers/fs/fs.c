/*
 * fs, the file server: hierarchical files and directories in one RVM
 * segment (store.c), changed under the clients' transactions (txn.c).
 *
 * Boot arguments: fs_mode=lrvm (default: the segment and the redo log are
 * regions of the disk server) or fs_mode=vista (both in persistent memory:
 * the undo log in its first megabyte, the segment after it); fs_size=KIB,
 * the size a new file system is formatted with (default 2048). At start it
 * maps the segment (RVM replays its log or undoes what a crash
 * interrupted), recovers (recover.c: asks the TM how each transaction left
 * in doubt ended, formats the segment if it holds no file system yet) and
 * serves its requests (ops.c), with what the transactions still in doubt
 * changed locked until a thread learns how they ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "fs.h"

#define LOG_DEV RVM_NODE_LOG "fs" /* the node log: servers/log */
#define SEG_DEV "fs.seg"
#define PMEM_DEV "pmem.fs"
#define VISTA_UNDO (1u << 20) /* the undo log's share of persistent memory */
#define SIZE_DEFAULT_KIB 2048

bool fs_vista;

static uint32_t
boot_u32(const char *key, uint32_t dflt)
{
	char buf[16];
	if (qs_boot_arg(key, buf, sizeof(buf)) <= 0)
		return dflt;
	return (uint32_t)strtoul(buf, NULL, 10);
}

static int
open_rvm(uint32_t size)
{
	rvm_options_t opt;
	memset(&opt, 0, sizeof(opt));
	opt.log_dev = fs_vista ? PMEM_DEV : LOG_DEV;
	opt.flags = fs_vista ? RVM_VISTA : 0;
	/* Creates the log on a new node; refuses a damaged one (and says how
	 * to format it) unless the boot argument format= names it. */
	rvm_return_t r = rvm_open_log_boot("fs", &opt, fs_vista ? VISTA_UNDO : 0);
	if (r == RVM_ELOG)
		return QS_ENOENT;
	if (r != RVM_SUCCESS)
		return QS_EIO;
	static rvm_region_t region;
	region.data_dev = fs_vista ? PMEM_DEV : SEG_DEV;
	region.offset = fs_vista ? VISTA_UNDO : 0;
	region.length = size;
	if ((r = rvm_map(&region, NULL)) != RVM_SUCCESS) {
		printf("fs: cannot map %s: %s\n", region.data_dev, rvm_strerror(r));
		return QS_EIO;
	}
	fs_base = region.vmaddr;
	fs_size = size;
	return 0;
}

int
main(void)
{
	char mode[8] = "lrvm";
	qs_boot_arg("fs_mode", mode, sizeof(mode));
	fs_vista = strcmp(mode, "vista") == 0;
	uint32_t size = boot_u32("fs_size", SIZE_DEFAULT_KIB) * 1024;
	if (size < 64 * 1024 || size > 64 * 1024 * 1024) {
		printf("fs: fs_size must be 64..65536 KiB\n");
		return 1;
	}
	if (open_rvm(size) < 0 || fs_recover(size) < 0)
		return 1;
	int qid = qs_sq_create(FS_QUEUE, 0);
	if (qid < 0) {
		printf("fs: cannot create queue %s: %s\n", FS_QUEUE, qs_strerror(qid));
		return 1;
	}
	if (fs_oplog_init() < 0) {
		printf("fs: cannot start the log thread\n");
		return 1;
	}
	uint32_t fb, fi;
	fs_count_free(&fb, &fi);
	printf("fs: serving queue %s (%s, %u KiB, %u blocks free)\n", FS_QUEUE,
	       fs_vista ? "vista" : "lrvm", size / 1024, fb);
	fs_serve(qid);
	return 0;
}
