/*
 * The file server's protocol (servers/fs) and its client functions.
 *
 * Every request runs under the sender's transaction (hdr.txid). Changes a
 * transaction makes are visible to it at once, durable when it commits and
 * gone when it aborts; until then the files and directories it changed are
 * locked, and other transactions get QS_EBUSY for them. A handle belongs to
 * the transaction that opened it and is closed when that transaction ends.
 *
 * Paths are absolute or relative to "/", components separated by '/', each
 * at most FS_NAME_MAX - 1 bytes, the whole at most FS_PATH_MAX - 1.
 */
#ifndef QS_FS_H
#define QS_FS_H

#include <stdint.h>
#include <qs/abi.h>

#define FS_QUEUE "fs"
#define FS_PATH_MAX 128
#define FS_NAME_MAX 28  /* a name, with its NUL */
#define FS_IO_MAX 4000  /* bytes per read or write request */
#define FS_DIRENTS_MAX 32

/*
 * What one client process (the request's src_node and src_pid) may hold in
 * the fs at once: open handles, and transactions with changes not yet
 * ended. A request that would pass one gets QS_ELIMIT, before it changes
 * anything, and is counted (fs_df_t.limited); other clients are served as
 * before. The fs's own tables are four times as large (FS_HANDLES_MAX,
 * FS_TXS_MAX), so no one client fills them.
 */
#define FS_CLIENT_HANDLES 64
#define FS_CLIENT_TXS 16
#define FS_HANDLES_MAX 256 /* open handles, all clients' together */
#define FS_TXS_MAX 64      /* transactions with changes, all together */
/* How long the fs waits for a window manager to make a log window
 * (FS_OP_LOG) before it answers QS_ETIMEDOUT. */
#define FS_LOG_TIMEOUT_MS 10000

enum {
	FS_OP_OPEN = 1,    /* fs_open_t -> handle */
	FS_OP_READ = 2,    /* fs_io_t -> the bytes (fewer at the end) */
	FS_OP_WRITE = 3,   /* fs_io_t, then len bytes -> bytes written */
	FS_OP_SEEK = 4,    /* fs_seek_t -> the new offset */
	FS_OP_CLOSE = 5,   /* uint32_t handle -> 0 */
	FS_OP_UNLINK = 6,  /* path -> 0 (a file or an empty directory) */
	FS_OP_MKDIR = 7,   /* path -> 0 */
	FS_OP_READDIR = 8, /* fs_readdir_t -> fs_dirents_t */
	FS_OP_STAT = 9,    /* path -> fs_stat_t */
	FS_OP_DF = 10,     /* -> fs_df_t */
	FS_OP_LOG = 11,    /* wm queue name -> the log window's id */
};

/*
 * Errors. Any request: QS_ENOSYS (no such opcode), QS_EINVAL (inline data
 * of another size than the operation's, or out-of-line data). These are
 * refused before any work and counted in fs_df_t.bad.
 *
 * A path (OPEN, UNLINK, MKDIR, READDIR, STAT): QS_ENAMETOOLONG (no NUL
 * within FS_PATH_MAX bytes, or a name of FS_NAME_MAX bytes or more),
 * QS_EINVAL ("." or ".." as its last name; for UNLINK, MKDIR and STAT also
 * data that is not the path and its NUL, nothing after it): refused before
 * any work too; then QS_ENOENT (a directory on the way is missing),
 * QS_ENOTDIR (a file on the way), QS_EBUSY (a directory on the way is
 * another transaction's).
 *
 * OPEN, WRITE, UNLINK and MKDIR join the request's transaction: what that
 * fails with (QS_EABORTED: it has ended; QS_EINVAL: no transaction). Those
 * that change something also QS_EBUSY when the transaction is being
 * committed or FS_TXS_MAX transactions have changes not yet ended already,
 * QS_ELIMIT when the transaction has none yet and its client (the
 * requesting process) has FS_CLIENT_TXS such transactions already, and
 * QS_ENOMEM or QS_EIO when RVM cannot record the change. Then, by
 * operation:
 *
 *   OPEN     QS_EINVAL (an unknown flag), QS_ENOENT (no such file and no
 *            FS_O_CREATE), QS_EISDIR (a directory, "/" included),
 *            QS_EEXIST (FS_O_CREATE | FS_O_EXCL, and it exists), QS_EBUSY
 *            (the file, or for a new one its directory, is another
 *            transaction's), QS_ENOSPC (no inode or block for a new file,
 *            checked before anything changes; FS_HANDLES_MAX handles
 *            open already, all clients' together), QS_ELIMIT (the
 *            client has FS_CLIENT_HANDLES handles open: checked before
 *            anything changes)
 *   READ     QS_EINVAL (len past FS_IO_MAX: refused before any work),
 *            QS_EBADF (a handle that is closed, made up or another
 *            transaction's), QS_EBUSY (the file is another transaction's)
 *   WRITE    QS_EINVAL (len past FS_IO_MAX, or other than the bytes after
 *            the fs_io_t: refused before any work), QS_EBADF, QS_EBUSY,
 *            QS_ENOSPC (not blocks enough: checked before anything
 *            changes), QS_E2BIG (past the largest file, 268 KiB)
 *   SEEK     QS_EINVAL (an unknown whence: refused before any work; a
 *            position before 0 or past the largest file), QS_EBADF
 *   CLOSE    QS_EBADF
 *   UNLINK   QS_ENOENT, QS_ENOTEMPTY (a directory with entries), QS_EBUSY
 *            (the root; a file with a handle open; the file or its
 *            directory is another transaction's)
 *   MKDIR    QS_EEXIST (the name exists, or it is "/"), QS_EBUSY (the
 *            directory is another transaction's), QS_ENOSPC
 *   READDIR  QS_ENOENT, QS_ENOTDIR (a file), QS_EBUSY
 *   STAT     QS_ENOENT, QS_EBUSY
 *   DF       none
 *   LOG      below
 */

/*
 * FS_OP_LOG: the data is the name of a window manager's queue, exactly
 * "wm" or "wm@N" (N a node number, decimal, no leading zero), and its NUL,
 * nothing after it; anything else is QS_EINVAL, before any work. Those
 * names are the window managers' alone ("wm" is reserved for the process
 * init starts as the window manager, and only the CM makes "NAME@N"), so
 * a client cannot have the fs call a queue of its own. The fs opens a
 * window there under the request's transaction and writes a line into it
 * for each later open, read, write, seek, close, unlink and mkdir of that
 * transaction. The window is the window manager's breadcrumb of the
 * transaction: it goes when the transaction ends. The fs never waits for
 * the window manager, so other clients are served meanwhile (it waits
 * only for the lookup of "wm@N", which the CM answers within about a
 * second, and once it has a proxy at once). Errors: the
 * queue's lookup or the window's creation fails (as the lookup or the
 * window manager said), QS_ETIMEDOUT (no window within FS_LOG_TIMEOUT_MS;
 * one made later goes with the transaction), QS_EEXIST (the transaction
 * logs already), QS_EAGAIN (the fs's table of log windows is full, or it
 * has too many requests to window managers unanswered), QS_EABORTED (the
 * transaction has ended, or ends before the window is made).
 */

/* FS_OP_OPEN flags */
#define FS_O_CREATE 0x1 /* create the file if it does not exist */
#define FS_O_TRUNC 0x2  /* empty it */
#define FS_O_EXCL 0x4   /* with CREATE: fail with QS_EEXIST if it exists */

typedef struct {
	uint32_t flags;
	char path[FS_PATH_MAX];
} fs_open_t;

typedef struct {
	uint32_t handle;
	uint32_t len;
} fs_io_t;

enum { FS_SEEK_SET = 0, FS_SEEK_CUR = 1, FS_SEEK_END = 2 };

typedef struct {
	uint32_t handle;
	int32_t offset;
	uint32_t whence;
} fs_seek_t;

enum { FS_T_FILE = 1, FS_T_DIR = 2 };

typedef struct {
	uint32_t inode;
	uint32_t type; /* FS_T_* */
	uint32_t size; /* bytes (a directory: of its entries) */
	uint32_t blocks;
} fs_stat_t;

typedef struct {
	uint32_t first; /* entry index to start from */
	char path[FS_PATH_MAX];
} fs_readdir_t;

typedef struct {
	uint32_t type;
	uint32_t size;
	char name[FS_NAME_MAX];
} fs_dirent_t;

typedef struct {
	uint32_t count; /* entries that follow */
	uint32_t more;  /* 1 if the directory has entries past them */
	fs_dirent_t ent[FS_DIRENTS_MAX];
} fs_dirents_t;

typedef struct {
	uint32_t block_size;
	uint32_t blocks, blocks_free;
	uint32_t inodes, inodes_free;
	uint32_t vista;          /* 1: Vista mode (persistent memory) */
	uint32_t handles;        /* open handles */
	uint32_t transactions;   /* transactions with changes not yet ended */
	uint32_t locks;          /* files and directories locked */
	uint32_t in_doubt;       /* prepared, outcome not yet known */
	uint64_t log_size, log_used;
	uint64_t commits, aborts, prepares, log_forces, truncations;
	uint32_t log_windows;    /* transactions with an FS_OP_LOG window */
	uint32_t heap;           /* the file server's heap in use, bytes */
	uint32_t served;         /* requests that passed the checks below */
	uint32_t bad;            /* requests refused before any work: unknown
				    opcode, bad size, malformed arguments */
	uint32_t limited;        /* requests refused for a client's limit
				    (FS_CLIENT_*: QS_ELIMIT) */
} fs_df_t;

/*
 * Client side (libqs/src/fs.c): >= 0 or a QS_E* error. The calls go to
 * queue FS_QUEUE unless fs_use_queue named another ("fs@1"); the name is
 * kept (at most QS_NAME_MAX - 1 bytes, else QS_EINVAL) for the process.
 */
int fs_use_queue(const char *name);
int fs_open(const char *path, uint32_t flags);          /* -> handle */
int fs_read(int handle, void *buf, uint32_t len);       /* -> bytes */
int fs_write(int handle, const void *buf, uint32_t len); /* -> bytes */
int fs_seek(int handle, int32_t offset, uint32_t whence);
int fs_close(int handle);
int fs_unlink(const char *path);
int fs_mkdir(const char *path);
int fs_readdir(const char *path, uint32_t first, fs_dirents_t *out);
int fs_stat(const char *path, fs_stat_t *out);
int fs_df(fs_df_t *out);
int fs_log(const char *wm_queue); /* -> the log window's id */
/* A whole file: fs_put writes text as PATH's contents (0 or an error);
 * fs_get reads at most cap - 1 bytes of it into buf, NUL-terminated
 * (-> bytes; cap 0 is QS_EINVAL). Either may take several requests. */
int fs_put(const char *path, const char *text);
int fs_get(const char *path, char *buf, uint32_t cap);

#endif
