/*
 * The shell's file commands: ls, cat, write, rm, mkdir, df. Each runs in a
 * transaction of its own, committed when it succeeds and aborted when it
 * fails, so nothing the shell does stays locked or half done, and no file
 * handle outlives the command.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "fscmd.h"

/* Ends the command's transaction: commit if r >= 0, else abort. */
static int
finish(const char *cmd, uint64_t tx, int r)
{
	if (r < 0) {
		qs_tx_abort(tx);
		return r;
	}
	r = qs_tx_commit(tx);
	if (r < 0)
		printf("%s: commit: %s\n", cmd, qs_strerror(r));
	return r;
}

static bool
begin(const char *cmd, uint64_t *tx)
{
	int r = qs_tx_begin(tx);
	if (r < 0)
		printf("%s: cannot begin a transaction: %s\n", cmd, qs_strerror(r));
	return r == 0;
}

static void
cmd_error(const char *cmd, const char *path, int r)
{
	if (r == QS_ENOENT && qs_sq_lookup(FS_QUEUE) < 0)
		printf("%s: no file server (queue %s)\n", cmd, FS_QUEUE);
	else
		printf("%s: %s: %s\n", cmd, path, qs_strerror(r));
}

void
cmd_ls(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/";
	static fs_dirents_t d;
	uint64_t tx;
	if (!begin("ls", &tx))
		return;
	int r = 0;
	uint32_t first = 0;
	do {
		if ((r = fs_readdir(path, first, &d)) < 0)
			break;
		for (uint32_t i = 0; i < d.count && i < FS_DIRENTS_MAX; i++) {
			d.ent[i].name[FS_NAME_MAX - 1] = 0;
			if (d.ent[i].type == FS_T_DIR)
				printf("d %8s %s/\n", "", d.ent[i].name);
			else
				printf("- %8u %s\n", d.ent[i].size, d.ent[i].name);
		}
		first += d.count;
	} while (d.more && d.count);
	if (r < 0)
		cmd_error("ls", path, r);
	finish("ls", tx, r);
}

void
cmd_cat(int argc, char **argv)
{
	(void)argc;
	static char buf[FS_IO_MAX];
	uint64_t tx;
	if (!begin("cat", &tx))
		return;
	int h = fs_open(argv[1], 0), r = h;
	while (h >= 0 && (r = fs_read(h, buf, sizeof(buf))) > 0)
		qs_cons_write(buf, (size_t)r);
	if (h >= 0)
		fs_close(h);
	if (r < 0)
		cmd_error("cat", argv[1], r);
	finish("cat", tx, r);
}

void
cmd_write(int argc, char **argv)
{
	static char text[256];
	size_t n = 0;
	for (int i = 2; i < argc; i++) {
		size_t len = strlen(argv[i]);
		if (n + len + 2 > sizeof(text)) {
			printf("write: text too long\n");
			return;
		}
		memcpy(text + n, argv[i], len);
		n += len;
		text[n++] = i + 1 < argc ? ' ' : '\n';
	}
	uint64_t tx;
	if (!begin("write", &tx))
		return;
	int h = fs_open(argv[1], FS_O_CREATE | FS_O_TRUNC), r = h;
	if (h >= 0) {
		r = fs_write(h, text, (uint32_t)n);
		fs_close(h);
	}
	if (r < 0)
		cmd_error("write", argv[1], r);
	if (finish("write", tx, r) == 0)
		printf("wrote %u bytes to %s\n", (unsigned)n, argv[1]);
}

/* One call on a path, in a transaction of its own. */
static void
path_cmd(const char *cmd, int (*fn)(const char *), const char *path)
{
	uint64_t tx;
	if (!begin(cmd, &tx))
		return;
	int r = fn(path);
	if (r < 0)
		cmd_error(cmd, path, r);
	finish(cmd, tx, r);
}

void
cmd_rm(int argc, char **argv)
{
	(void)argc;
	path_cmd("rm", fs_unlink, argv[1]);
}

void
cmd_mkdir(int argc, char **argv)
{
	(void)argc;
	path_cmd("mkdir", fs_mkdir, argv[1]);
}

void
cmd_df(int argc, char **argv)
{
	(void)argc, (void)argv;
	static fs_df_t d;
	int r = fs_df(&d);
	if (r < 0) {
		cmd_error("df", "/", r);
		return;
	}
	printf("fs: %s, blocks %u free %u (%u bytes each), inodes %u free %u\n",
	       d.vista ? "vista" : "lrvm", d.blocks, d.blocks_free, d.block_size,
	       d.inodes, d.inodes_free);
	printf("fs: handles %u transactions %u locks %u in-doubt %u "
	       "log-windows %u\n", d.handles, d.transactions, d.locks,
	       d.in_doubt, d.log_windows);
	printf("fs: requests served %u bad %u limited %u\n", d.served, d.bad,
	       d.limited);
	printf("rvm: log used %u of %u KiB, commits %u aborts %u prepares %u "
	       "forces %u truncations %u\n", (unsigned)(d.log_used / 1024),
	       (unsigned)(d.log_size / 1024), (unsigned)d.commits,
	       (unsigned)d.aborts, (unsigned)d.prepares, (unsigned)d.log_forces,
	       (unsigned)d.truncations);
}
