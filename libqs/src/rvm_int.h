/*
 * RVM internals shared by rvm.c (state, options, regions), rvm_txn.c
 * (transactions), rvm_log.c (the redo log's format and I/O), rvm_trunc.c
 * (recovery and truncation), rvm_damage.c (telling the log's end from
 * damage) and rvm_vista.c (the undo log in persistent memory). Internal
 * to libqs; the host unit tests include it for the Vista store hook.
 *
 * Locking: rvm_lock guards everything in `rvm` and is held for short
 * stretches, including the log appends and forces of commits.
 * rvm_trunc_lock serialises truncation epochs and rvm_map; it is taken
 * before rvm_lock, never while holding it (but for a trylock). An epoch's
 * device I/O runs under rvm_trunc_lock alone, so commits go on beside it.
 * A commit that needs log space never waits for rvm_trunc_lock: it waits
 * on rvm_room, broadcast whenever rvm_trunc_lock is released, and runs an
 * epoch itself only when none is under way.
 */
#ifndef QS_RVM_INT_H
#define QS_RVM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <qs/rvm.h>
#include <qs/thread.h>

#define RVM_DEFAULT_PCT 50
#define RVM_DEFAULT_BUF (64 * 1024)

#define SECT_DOWN(x) ((x) & ~(uint64_t)(RVM_SECTOR - 1))
#define SECT_UP(x) SECT_DOWN((x) + RVM_SECTOR - 1)
#define ALIGN8(x) (((x) + 7) / 8 * 8)

/*
 * Redo record on the log device: header, the segment names the ranges
 * refer to (each a u32 length and the bytes, padded to 8), the ranges
 * (rec_range_t and the new bytes, padded to 8), then the end mark. All
 * little-endian, every part 8-aligned. The crc (CRC32C) covers everything
 * before the end mark.
 */
enum {
	REC_COMMIT = 1,          /* new values of a transaction */
	REC_PREPARE = 2,         /* new values of a prepared transaction (gtid) */
	REC_COMMIT_PREPARED = 3, /* its commit: carries the new values again */
	REC_ABORT_PREPARED = 4,  /* its abort: no ranges */
};

#define REC_MAGIC 0x52564d52u /* "RMVR" */
#define END_MAGIC 0x444e4552u /* "REND" */

typedef struct {
	uint32_t magic;
	uint16_t kind, n_segs;
	uint32_t n_ranges;
	uint32_t len;      /* whole record, header to end mark */
	uint64_t seq;      /* consecutive along the log */
	uint64_t gtid;     /* PREPARE and its outcome; else 0 */
	uint32_t tid;
	uint32_t inc;      /* the log's incarnation (bumped by each recovery) */
	uint32_t prev_crc; /* crc of the record before it in the log */
	uint32_t pad;
	uint64_t forced;   /* the highest seq known forced when it was sealed */
} rec_hdr_t;

typedef struct {
	uint32_t seg; /* index into the record's names */
	uint32_t len;
	uint64_t off; /* in the segment */
} rec_range_t;

typedef struct {
	uint32_t magic;
	uint32_t crc;
	uint64_t seq;
} rec_end_t;

#define REC_MIN (sizeof(rec_hdr_t) + sizeof(rec_end_t))

/* Walks the ranges of a checked record, bounds-checking as it goes. */
typedef struct {
	const uint8_t *rec;
	uint32_t len, at, left;
	uint32_t n_segs;
	uint32_t names; /* offset of the first name */
} rec_iter_t;

typedef struct {
	const char *name; /* the segment's name, not NUL-terminated */
	uint32_t name_len;
	uint64_t off;
	uint32_t len;
	const uint8_t *data;
} rec_item_t;

/* A segment device, open from first use until rvm_terminate. */
typedef struct rvm_seg {
	char *name;
	rvm_dev_t *dev;
	int dirty; /* written by the current epoch, to sync (truncation only) */
	struct rvm_seg *next;
} rvm_seg_t;

/*
 * A mapped region. LRVM keeps three bitmaps of its sectors (rvm_mem.c):
 * dirty, those commits changed since the last epoch began; taken, the
 * dirty ones of the epoch under way; busy, scratch for that epoch.
 */
typedef struct rvm_map {
	rvm_seg_t *seg; /* NULL in Vista mode */
	uint64_t offset;
	uint32_t length;
	uint8_t *mem;
	uint32_t *dirty, *taken, *busy; /* NULL in Vista mode */
	uint32_t n_dirty;               /* bits set in dirty */
	struct rvm_map *next;
} rvm_map_t;

/* Segment sectors, sorted (truncation applies the log to these only). */
typedef struct {
	struct rvm_sect {
		const rvm_seg_t *seg;
		uint64_t sector;
	} *v;
	uint32_t n, cap;
} rvm_sects_t;

/* A set range of an LRVM transaction; old is NULL for no-restore. */
typedef struct {
	rvm_map_t *map;
	uint8_t *addr;
	uint32_t len;
	uint8_t *old;
} rvm_range_t;

struct rvm_txn;

/*
 * A PREPARE record whose outcome is not logged yet: of an open prepared
 * transaction, or (txn NULL) in doubt after recovery. pos/seq locate its
 * latest copy in the log; truncation copies it forward past the epoch.
 */
typedef struct rvm_prep {
	uint64_t gtid;
	uint8_t *rec;
	uint32_t len;
	uint64_t pos, seq;
	struct rvm_txn *txn;
	struct rvm_prep *next;
} rvm_prep_t;

typedef struct rvm_txn {
	uint32_t id;
	rvm_mode_t mode;
	rvm_range_t *ranges; /* LRVM: by address, disjoint, never touching */
	uint32_t n_ranges, cap;
	rvm_prep_t *prep;    /* LRVM: set once prepared */
	int slot;            /* Vista: its slot in the undo log */
	int prepared;
	struct rvm_txn *next;
} rvm_txn_t;

/*
 * The LRVM log. Positions are logical byte offsets that only grow; a
 * position p lives at device offset LOG_AREA_START + p % area.
 */
typedef struct {
	uint64_t area;           /* bytes of the circular record area */
	uint64_t head, head_seq; /* oldest live record, as in the status block */
	uint64_t tail, next_seq; /* where the next record goes */
	uint64_t written;        /* records below this are on the device */
	uint32_t inc, gen;       /* incarnation; last status block generation */
	uint32_t last_crc;       /* crc of the record just before tail */
	uint64_t untracked;      /* records below it may be missing from the
				    maps' dirty bits: the next epoch applies
				    them from the log (0: none) */
	/* The last record known forced: its seq and the position past it
	 * (from the status block until recovery has found the end). */
	uint64_t forced_seq, forced_pos;
	int unsynced;            /* written since the last sync */
	int truncating;          /* an epoch is being applied */
	rvm_return_t broken;     /* a log write or sync failed: refuse work */
	uint8_t *buf;            /* log bytes [SECT_DOWN(written), tail) */
	uint32_t buf_len, buf_cap;
} rvm_log_t;

#define LOG_AREA_START (2 * RVM_SECTOR) /* after the two status copies */

struct rvm_state {
	int up, vista;
	int node;         /* the log is the node's (rvm_node.c) */
	rvm_dev_open_fn open_dev;
	uint32_t truncate_pct, log_buf_size;
	rvm_dev_t *dev;   /* the log device */
	char *log_name;
	rvm_seg_t *segs;
	rvm_map_t *maps;
	rvm_txn_t *txns;
	uint32_t next_tid;
	rvm_prep_t *preps;
	uint32_t n_preps;
	rvm_log_t log;
	uint64_t vista_len; /* Vista: bytes of the undo area */
	rvm_stats_t stats;
	rvm_damage_t damage; /* what rvm_initialize found damaged */
};

extern struct rvm_state rvm;
extern qs_mutex_t rvm_lock, rvm_trunc_lock;
extern qs_cond_t rvm_room;

/* rvm.c */
rvm_dev_t *rvm_open_dev(const char *name);
rvm_seg_t *seg_get(const char *name, uint32_t len);
rvm_map_t *map_find(const rvm_seg_t *seg, uint64_t off, uint32_t len);
rvm_map_t *map_of(const void *addr, uint32_t len);
rvm_txn_t *txn_find(uint32_t id);
void prep_remove(rvm_prep_t *p);

/* rvm_log.c */
rvm_return_t log_create(rvm_dev_t *dev, uint64_t len);
rvm_return_t log_open(rvm_dev_t *dev);
/* Also records the durable end (forced_seq); takes rvm_lock to read it,
 * so never called with rvm_lock held. */
rvm_return_t log_write_status(uint64_t head, uint64_t head_seq);
rvm_return_t log_io(int write, uint64_t pos, void *buf, uint32_t n);
int log_fits(uint64_t len);
int log_has_work(void);
rvm_return_t log_append(uint8_t *rec, uint32_t len, int force,
			uint64_t *pos, uint64_t *seq);
rvm_return_t log_force(void);
void log_free(void);
rvm_return_t rec_build(int kind, const rvm_txn_t *t, uint64_t gtid,
		       uint8_t **rec, uint32_t *len);
void rec_header(const uint8_t *rec, rec_hdr_t *h);
/* Seals a record as l's next one (seq, incarnation, the crc before it,
 * what was forced) with its end mark; returns its crc. */
uint32_t rec_seal(uint8_t *rec, uint32_t len, const rvm_log_t *l);
/* Whether a record of len bytes (REC_MIN at least) has its end mark and
 * its crc. */
int rec_sealed(const uint8_t *rec, uint32_t len);
void rec_set_kind(uint8_t *rec, int kind);
int rec_iter_init(rec_iter_t *it, const uint8_t *rec, uint32_t len);
int rec_next(rec_iter_t *it, rec_item_t *item);

typedef struct {
	uint8_t *buf;
	uint32_t cap, len;
	uint64_t pos; /* log position of buf[0] */
} log_reader_t;
const uint8_t *log_read(log_reader_t *r, uint64_t pos, uint32_t n);
rvm_return_t log_record_at(log_reader_t *r, uint64_t pos, uint64_t seq,
			   const uint32_t *prev_crc, const uint8_t **rec,
			   uint32_t *len, uint32_t *crc);
rvm_return_t log_record_check(log_reader_t *r, uint64_t pos, rec_hdr_t *h,
			      const uint8_t **rec);

/* rvm_damage.c */
rvm_return_t log_end_check(log_reader_t *r, uint64_t pos, uint64_t seq);
void damage_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* rvm_trunc.c */
rvm_return_t log_recover(void);
rvm_return_t log_truncate(void);
rvm_return_t log_truncate_locked(int force_status);
void trunc_unlock(void);

/* rvm_txn.c */
int txn_touches(const rvm_txn_t *t, const rvm_map_t *m);

/* rvm_mem.c */
rvm_return_t map_bits_alloc(rvm_map_t *m);
void map_bits_free(rvm_map_t *m);
void map_mark(rvm_map_t *m, uint32_t off, uint32_t len);
void mem_take(void);
rvm_return_t mem_write(rvm_sects_t *busy, uint64_t *writes);
int sects_has(const rvm_sects_t *s, const rvm_seg_t *seg, uint64_t sector);

/* rvm_node.c */
const char *node_owner(const char *log_dev); /* NULL: not the node log */
rvm_return_t node_open(const char *owner);
rvm_return_t node_append(uint8_t *rec, uint32_t len, int force,
			 uint64_t *pos, uint64_t *seq);
rvm_return_t node_force(void);
rvm_return_t node_release(uint64_t head);
rvm_return_t node_release_key(uint64_t key);
typedef rvm_return_t (*node_fn)(const uint8_t *rec, uint32_t len,
				uint64_t key, uint64_t seq, void *arg);
rvm_return_t node_scan(node_fn fn, void *arg, uint64_t *torn, int live);
void node_saw_prep(uint64_t key);

/* rvm_vista.c */
extern void (*rvm_vista_hook)(void);
rvm_return_t vista_create(rvm_dev_t *dev, uint64_t len);
rvm_return_t vista_open(void);
rvm_return_t vista_begin(rvm_txn_t *t);
rvm_return_t vista_set_range(rvm_txn_t *t, const uint8_t *addr, uint32_t len);
void vista_end(rvm_txn_t *t);
void vista_abort(rvm_txn_t *t);
void vista_prepare(rvm_txn_t *t, uint64_t gtid);
rvm_return_t vista_resolve(uint64_t gtid, int commit);
int vista_touches(const rvm_txn_t *t, const rvm_map_t *m);
uint32_t vista_in_doubt(uint64_t *gtids, uint32_t max);
rvm_return_t vista_ranges(uint64_t gtid, rvm_span_t *spans, uint32_t max,
			  uint32_t *n);
void vista_usage(uint64_t *size, uint64_t *used);
int vista_gtid_busy(uint64_t gtid);

#endif
