/*
 * The file server's internals: the on-segment layout (store.c), the
 * transactions, locks and handles (txn.c), the operation log windows
 * (oplog.c), the requests (ops.c), recovery at start (recover.c) and main
 * (fs.c).
 *
 * Everything the file system keeps lives in one RVM segment, mapped at
 * `fs_base`: block 0 the superblock, then the inode table, the block map (one
 * byte per block: 1 used) and the data blocks. Every change goes through
 * fs_mod() first, which names the range to RVM under the changing
 * transaction, so a transaction's changes commit or vanish together.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/fs.h>
#include <qs/rvm.h>
#include <qs/sq.h>
#include <qs/thread.h>

#define FS_MAGIC 0x53465351u /* "QSFS" */
#define FS_VERSION 1
#define BLOCK 1024
#define NDIRECT 12
#define NINDIRECT (BLOCK / 4)
#define FILE_MAX ((NDIRECT + NINDIRECT) * BLOCK)
#define ROOT_INO 1

typedef struct {
	uint32_t magic, version;
	uint32_t blocks;      /* in the segment, all of it */
	uint32_t inodes;      /* in the table, including unused inode 0 */
	uint32_t inode_start; /* first block of the inode table */
	uint32_t map_start;   /* first block of the block map */
	uint32_t data_start;  /* first data block */
} super_t;

typedef struct {
	uint16_t type; /* 0 free, FS_T_FILE, FS_T_DIR */
	uint16_t pad;
	uint32_t size;
	uint32_t direct[NDIRECT];
	uint32_t indirect; /* a block of NINDIRECT block numbers, 0 if none */
	uint32_t spare;
} inode_t;

typedef struct {
	uint32_t inode; /* 0: a free slot */
	char name[FS_NAME_MAX];
} dirent_t;

_Static_assert(sizeof(inode_t) == 64, "inodes pack a block");
_Static_assert(sizeof(dirent_t) == 32, "entries pack a block");

/* A client: the process a request came from, as the kernel stamped it
 * (fs_client_of). Per-client limits count what each holds. */
typedef uint64_t fs_client_t;
static inline fs_client_t
fs_client_of(const qs_msg_t *req)
{
	return (uint64_t)req->hdr.src_node << 32 | (uint32_t)req->hdr.src_pid;
}

/* A transaction that has changed something here (txn.c). */
typedef struct fs_tx {
	uint64_t tx;
	fs_client_t client; /* whose request made the entry; 0: in doubt */
	rvm_tid_t tid;
	bool prepared;
	bool failed; /* a change could not be recorded: it must abort */
} fs_tx_t;

/* store.c: the layout; callers hold fs_lock. */
extern uint8_t *fs_base;
extern uint32_t fs_size;
super_t *fs_super(void);
inode_t *fs_inode(uint32_t ino); /* NULL if out of range */
int fs_format(fs_tx_t *t, uint32_t size);
int fs_check(uint32_t size);
/* Splits a path into its parent directory (locked for reading by tx) and
 * last name; `name` gets FS_NAME_MAX bytes. */
int fs_walk(uint64_t tx, const char *path, uint32_t *dir, char *name);
int fs_dir_find(uint32_t dir, const char *name, uint32_t *ino);
int fs_dir_add(fs_tx_t *t, uint32_t dir, const char *name, uint32_t ino);
int fs_dir_remove(fs_tx_t *t, uint32_t dir, const char *name);
int fs_dir_entry(uint32_t dir, uint32_t index, dirent_t *out); /* 1, 0 at end */
bool fs_dir_empty(uint32_t dir);
int fs_ialloc(fs_tx_t *t, uint16_t type, uint32_t *ino);
int fs_ifree(fs_tx_t *t, uint32_t ino); /* frees its blocks too */
int fs_file_read(uint32_t ino, uint32_t off, void *buf, uint32_t len);
int fs_file_write(fs_tx_t *t, uint32_t ino, uint32_t off, const void *buf,
             uint32_t len);
int fs_truncate(fs_tx_t *t, uint32_t ino);
uint32_t fs_inode_blocks(uint32_t ino);
void fs_count_free(uint32_t *blocks, uint32_t *inodes);
/* Every block's file, 0 for none: owner gets fs_super()->blocks entries. */
void fs_block_owners(uint32_t *owner);
/* Locks (for tx) every inode [p, p + len) lies in or is data of, and
 * reserves for it every block whose map byte it covers or that no file
 * has (see recover.c, in-doubt transactions). */
void fs_guard_range(uint64_t tx, const uint8_t *p, uint32_t len,
                    const uint32_t *owner);

/* txn.c: transactions, locks, handles; callers hold fs_lock unless said. */
extern qs_mutex_t fs_lock;
int fs_txn_init(uint32_t inodes, uint32_t blocks);
int fs_mod(fs_tx_t *t, void *p, uint32_t len);
/* The transaction's state, made (and joined as recoverable) if need be.
 * Without fs_lock: fs_tx_join; then with it: fs_tx_get, which makes the
 * entry for `client` (QS_ELIMIT if it has FS_CLIENT_TXS already). */
int fs_tx_join(uint64_t tx);
int fs_tx_get(uint64_t tx, fs_client_t client, fs_tx_t **out);
/* Would fs_tx_get make tx an entry within client's limit? 0 or QS_ELIMIT
 * (counted): asked before a request changes anything (a lock taken). */
int fs_tx_room(uint64_t tx, fs_client_t client);
uint32_t fs_limited(void); /* requests refused for a client's limit */
int fs_lock_read(uint64_t tx, uint32_t ino);  /* QS_EBUSY if another's */
int fs_lock_write(uint64_t tx, uint32_t ino); /* takes it for tx */
bool fs_ino_locked(uint32_t ino);
bool fs_block_reserved(uint32_t b);           /* freed by an open tx */
void fs_block_reserve(uint64_t tx, uint32_t b);
uint32_t fs_locks_held(void);
uint32_t fs_txs_open(void);
/* A transaction in doubt after a crash, and its end (rvm_resolve): the
 * latter lets go of its locks and reserved blocks. */
void fs_tx_in_doubt(uint64_t tx);
void fs_tx_resolved(uint64_t tx);
/* -> handle; QS_ELIMIT (counted) if client has FS_CLIENT_HANDLES open,
 * which fs_handle_room tells before the open does anything. */
int fs_handle_new(uint64_t tx, fs_client_t client, uint32_t ino);
int fs_handle_room(fs_client_t client);
struct fs_handle {
	uint64_t tx;
	uint32_t ino;
	uint32_t off;
};
struct fs_handle *fs_handle_get(uint64_t tx, uint32_t h);
int fs_handle_close(uint64_t tx, uint32_t h);
uint32_t fs_handles_open(void);
bool fs_ino_open(uint32_t ino); /* some handle refers to it */
/* Without fs_lock: makes the handle a breadcrumb of its transaction. */
int fs_handle_crumb(uint64_t tx, uint32_t h);

/* oplog.c: FS_OP_LOG. Start and note are called without fs_lock (start
 * asks the TM and looks the queue up; neither waits for a window manager);
 * forget and count with it. init starts the thread that collects the
 * window managers' answers. */
int fs_oplog_init(void);
/* name: the window manager's queue, checked already ("wm" or "wm@N").
 * Defers the request (0), the window's id to come; or an error. */
int32_t fs_oplog_start(const qs_msg_t *req, const char *name, qs_msg_t *reply);
/* The line for a finished request, if its transaction logs. */
void fs_oplog_note(const qs_msg_t *req, int32_t result);
/* At the transaction's end: its entry goes (a client still waiting for
 * the window gets QS_EABORTED). */
void fs_oplog_forget(uint64_t tx);
uint32_t fs_oplog_count(void);

/* ops.c: serves the requests on qid; returns when the queue is gone. */
int fs_serve(int qid);

/* recover.c: resolves what the TM knows of the in-doubt transactions,
 * checks (or formats) the segment, locks what the rest changed and starts
 * the thread that resolves them. 0: serve; < 0: do not. */
int fs_recover(uint32_t size);

/* fs.c */
extern bool fs_vista; /* the segment is in persistent memory */

#endif
