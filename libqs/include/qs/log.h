/*
 * The node's log manager: protocol of queue "log" (servers/log) and its
 * client calls (libqs/src/log.c).
 *
 * As in Quicksilver, a node has one log. Its owners (the TM, recoverable
 * servers) append records to it without forcing; a force makes every
 * record appended before it durable, whoever appended it, and forces that
 * arrive while one is under way share the next one (group commit). Each
 * owner reads back only its own records, at recovery. A record stays until
 * its owner releases its key; the log manager carries records still live
 * forward as the log wraps, and when the live records leave no room an
 * append is refused (LOG_FULL): the log pushes back, it never overwrites.
 *
 * Records: an owner (a name reserved for the caller in init's config, such
 * as "tm" or "fs"), a kind and a key of the owner's choosing (the TM: a
 * transaction id), and up to LOG_DATA_MAX bytes, appended out of line and
 * read back in pieces of LOG_READ_MAX. Each has a sequence
 * number in the log's order (the order of appends, whoever made them); a
 * carried copy keeps it.
 *
 * Who may: any local process may open the owner whose name is reserved for
 * it (qs_name_holder) and then append, read and release that owner's
 * records only; stats are for anyone. Errors: QS_EPERM (not the owner's
 * process, or not local), QS_EINVAL (malformed), QS_ENOSPC (LOG_FULL: no
 * room for the record while live records fill the log; release, or try
 * later), QS_EIO (the log's device failed: the log refuses all work after
 * that, since what reached the disk is for recovery to judge), QS_ELIMIT
 * (more than LOG_OWNERS_MAX owners, or LOG_WAITERS_MAX forces waiting).
 */
#ifndef QS_LOG_H
#define QS_LOG_H

#include <stdint.h>
#include <qs/abi.h>

#define LOG_QUEUE "log"
#define LOG_NAME_MAX 12     /* an owner's name, NUL included */
#define LOG_OWNERS_MAX 16
#define LOG_DATA_MAX (60 * 1024) /* a record's data (out of line) */
#define LOG_READ_MAX 4000        /* data bytes one read answers with */
#define LOG_WAITERS_MAX 256 /* forces waiting for the disk at once */
#define LOG_FULL QS_ENOSPC

enum {
	LOG_OP_OPEN = 1,    /* log_open_t -> log_opened_t */
	LOG_OP_APPEND = 2,  /* log_append_t, the data out of line -> log_pos_t */
	LOG_OP_FORCE = 3,   /* log_force_t -> log_pos_t: durable up to there */
	LOG_OP_READ = 4,    /* log_read_t -> log_rec_t + up to LOG_READ_MAX
			       bytes of its data from the offset asked, or
			       QS_ENOENT */
	LOG_OP_RELEASE = 5, /* log_release_t -> 0 */
	LOG_OP_STATS = 6,   /* nothing -> log_stats_t */
	LOG_OP_CRASH = 7,   /* log_crash_t -> 0: the crash tests' hook */
};

#define LOG_F_FORCE 0x1 /* append: answer once the record is durable */
#define LOG_F_GROUP 0x2 /* with LOG_F_FORCE: a group force (below) */

typedef struct {
	char name[LOG_NAME_MAX]; /* NUL-terminated */
} log_open_t;

typedef struct {
	uint32_t owner;   /* the handle for the calls below */
	uint32_t records; /* the owner's live records, from before */
} log_opened_t;

typedef struct {
	uint32_t owner;
	uint16_t kind, flags; /* LOG_F_* */
	uint64_t key;
} log_append_t;

typedef struct {
	uint64_t seq; /* the record's (append), or durable up to (force) */
} log_pos_t;

typedef struct {
	uint32_t owner;
	uint32_t flags; /* LOG_FORCE_LAZY or LOG_FORCE_GROUP */
	uint64_t seq;   /* 0: everything appended so far */
} log_force_t;

/*
 * A lazy force is answered once its records are durable, like any other,
 * but starts no flush of its own: it rides on the next flush another
 * force starts, or, when none comes, on one LOG_LAZY_MS after it arrived.
 * For what may wait a little but must not be lost: a subordinate TM's
 * "my participants have committed" before it acknowledges its superior.
 */
#define LOG_FORCE_LAZY 0x1
#define LOG_LAZY_MS 20

/*
 * A group force (LOG_FORCE_GROUP, or LOG_F_GROUP on a forced append) says
 * that others are about to force too: its flush waits for them, up to
 * LOG_GROUP_MS after it arrived, unless a plain force starts one sooner
 * (group commit's timer, as in IMS Fast Path). The kernel's clock ticks
 * every 10 ms, so the wait ends at the next tick: every group force that
 * came meanwhile shares that one flush. For a commit point, or a
 * "prepared", reached while other transactions on the node are preparing:
 * a sync for several commits, at the price of at most LOG_GROUP_MS on
 * each.
 */
#define LOG_FORCE_GROUP 0x2
#define LOG_GROUP_MS 10

typedef struct {
	uint32_t owner;
	uint32_t offset; /* of the record's data, for a long one */
	uint64_t after;  /* the next live record of the owner after this seq */
} log_read_t;

typedef struct {
	uint64_t seq, key;
	uint16_t kind, pad;
	uint32_t len; /* the record's data; what follows is from offset on */
} log_rec_t;

typedef struct {
	uint32_t owner, pad;
	uint64_t key, last; /* the live records of the owner with keys from
			       key to last go */
} log_release_t;

typedef struct {
	uint64_t size, used;     /* bytes of the record area; between the head
				    and the tail */
	uint64_t appends, bytes; /* records and their bytes appended */
	uint32_t forces;         /* syncs of the device */
	uint32_t forced;         /* force requests answered (appends with
				    LOG_F_FORCE and LOG_OP_FORCE) */
	uint32_t live;           /* live records */
	uint32_t carried;        /* records copied forward as the log wrapped */
	uint32_t releases, full; /* keys released; appends refused, no room */
	uint32_t owners, refused; /* open owners; bad requests, by the table */
	uint32_t recovered;      /* records found live at start */
	uint32_t lazy;           /* lazy forces answered */
	uint32_t lazy_flushes;   /* flushes only lazy forces waited for */
	uint32_t group;          /* group forces answered */
	uint32_t group_flushes;  /* flushes that waited out a group's time */
} log_stats_t;

/*
 * The crash-point tests' hook (LOG_OP_CRASH; a local caller with
 * QS_RIGHT_ADMIN): the writer stops at its `flush`-th flush from now (1:
 * the next one), `how`: before writing anything of it, after writing the
 * first half of its sectors (torn, not synced), or after its sync and
 * before answering anyone. It prints "log: crash point reached: ..." and
 * writes nothing more: every request then fails with QS_EIO. The test
 * kills the node there, as a power cut would, and restarts it.
 */
enum { LOG_CRASH_BEFORE = 1, LOG_CRASH_TORN = 2, LOG_CRASH_AFTER = 3 };
typedef struct {
	uint32_t flush, how;
} log_crash_t;

/* Client calls. Each returns 0 or more, or a negative error (above). */
int qs_log_open(const char *owner, uint32_t *handle, uint32_t *records);
/* Appends a record; with LOG_F_FORCE returns once it is durable. *seq (if
 * not NULL) gets its sequence number. */
int qs_log_append(uint32_t handle, uint16_t kind, uint64_t key,
		  const void *data, uint32_t len, uint32_t flags,
		  uint64_t *seq);
/* Returns once every record appended up to seq (0: all) is durable;
 * flags: LOG_FORCE_LAZY. */
int qs_log_force(uint32_t handle, uint64_t seq, uint32_t flags);
/* The owner's next live record after seq `after` (0: the first): its
 * header into *rec and up to cap bytes of data into data; QS_ENOENT when
 * there is none. */
int qs_log_read(uint32_t handle, uint64_t after, log_rec_t *rec, void *data,
		uint32_t cap);
/* Releases the owner's live records with keys key..last. */
int qs_log_release(uint32_t handle, uint64_t key, uint64_t last);
int qs_log_stats(log_stats_t *out);
int qs_log_crash_at(uint32_t flush, uint32_t how);
/* The stats of the log manager on queue `queue`: LOG_QUEUE, or another
 * node's ("log@1"), whose CM forwards the request. */
int qs_log_stats_at(const char *queue, log_stats_t *out);

#endif
