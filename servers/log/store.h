/*
 * The node log's store: records in a circular area of a device, with the
 * index of the records between the head and the tail (store.c). The log
 * manager (log.c) serialises every call with its lock.
 */
#ifndef LOG_STORE_H
#define LOG_STORE_H

#include <stdint.h>
#include <qs/log.h>
#include <qs/rvm.h>

/* A record between the head and the tail, in log order. */
typedef struct {
	uint64_t pos;   /* where it starts (a logical position) */
	uint64_t pseq;  /* its place in the log (consecutive) */
	uint64_t seq;   /* its owner's view: the first copy's pseq */
	uint64_t key;
	uint32_t len;   /* bytes on the device, header to end mark */
	uint16_t kind;
	uint8_t owner;  /* index into the store's owner names */
	uint8_t live;   /* 0: released, carried, or a release record */
	uint32_t crc;   /* its own: what the record after it names */
} lrec_t;

typedef struct {
	rvm_dev_t *dev;
	uint64_t area;            /* bytes of the circular record area */
	uint64_t head, head_pseq; /* the oldest record kept */
	uint64_t disk_head;       /* the head the status names */
	uint32_t head_crc;        /* the CRC the head's record names before it */
	uint64_t tail, next_pseq; /* where the next record goes */
	uint64_t written;         /* bytes below this are on the device */
	uint64_t durable;         /* records with pseq below this are synced */
	uint32_t inc, gen;        /* recoveries; status block generation */
	uint32_t last_crc;        /* of the record just before the tail */
	int broken;               /* a write or sync failed: refuse work */
	int flushing;             /* store_flush_take: the I/O is under way */
	uint8_t *buf;             /* bytes [SECT_DOWN(written), tail) */
	uint32_t buf_len, buf_cap;
	lrec_t *idx;              /* records [first, n) are those kept */
	uint32_t first, n, cap;
	char owners[LOG_OWNERS_MAX][LOG_NAME_MAX];
	uint64_t owner_live[LOG_OWNERS_MAX]; /* bytes of each one's live records */
	uint32_t n_owners;
	log_stats_t stats;
} store_t;

/* What store_open found wrong, for its message. */
typedef struct {
	uint64_t pos, pseq;      /* the damaged record */
	uint64_t next_pos, next_pseq; /* the first good one after it */
} store_damage_t;

enum {
	STORE_NEW = 1, /* the device was never formatted (both status sectors
			  all zero): store_format makes a log */
	STORE_BAD_STATUS = 2, /* neither status copy is valid */
	STORE_DAMAGED = 3,    /* a record before the valid end is damaged */
};

/* Writes an empty log over the whole device (every byte zeroed). */
int store_format(rvm_dev_t *dev);
/* Opens the log and reads it from the head to the end: 0, a STORE_*
 * reason the log cannot be used (*damage set for STORE_DAMAGED), or a
 * negative error. */
int store_open(store_t *s, rvm_dev_t *dev, store_damage_t *damage);
/* Frees the store and closes its device. */
void store_close(store_t *s);
/* The owner index of NAME, added if new (-1: LOG_OWNERS_MAX reached). */
int store_owner(store_t *s, const char *name);
/* Appends a record (buffered; not written), moving the head on first if
 * it does not fit. LOG_FULL if it still does not: the live records fill
 * the log. */
int store_append(store_t *s, int owner, uint16_t kind, uint64_t key,
		 const void *data, uint32_t len, uint64_t *seq);
/* Marks every live record of OWNER with a key from KEY to LAST released,
 * and appends a release record so that recovery knows. */
int store_release(store_t *s, int owner, uint64_t key, uint64_t last);
/* The owner's live record with the smallest seq after AFTER, or NULL. */
const lrec_t *store_next(const store_t *s, int owner, uint64_t after);
/* Reads record r's data (up to cap bytes) into data: its length, or a
 * negative error (QS_EIO: unreadable or no longer what was written). */
int store_read(store_t *s, const lrec_t *r, void *data, uint32_t cap);

/* Writes what is buffered and syncs: every record appended so far is
 * durable when it returns 0. */
int store_flush(store_t *s);

/*
 * The same in three steps, so that the device I/O runs without the
 * caller's lock and appends go on meanwhile (group commit: they share the
 * next flush). take (with the lock) copies what is buffered into io and
 * sets flushing, unless nothing is (flushing stays 0: done is not
 * needed); io (without the lock) writes and syncs io's copy; done (with
 * the lock) makes what io held durable, or the store broken. While
 * flushing, nothing else may flush: a caller first asks
 * store_wants_flush. take's QS_ENOMEM (no room for the copy) changes
 * nothing: the caller then flushes in place (store_flush).
 */
typedef struct {
	uint8_t *buf;     /* the caller's: reused, freed by it */
	uint32_t n, cap;  /* bytes to write; allocated */
	uint64_t start;   /* their position (a sector's) */
	uint64_t tail, pseq; /* durable up to there once written */
} store_io_t;
int store_flush_take(store_t *s, store_io_t *io);
int store_flush_io(store_t *s, const store_io_t *io);
int store_flush_done(store_t *s, const store_io_t *io, int err);
/* The crash tests' torn flush: the first half of io's sectors (rounded
 * up), no sync. */
int store_flush_io_torn(store_t *s, const store_io_t *io);
/* Whether an append of dlen data bytes (or a release: 8), or a read of
 * record read (not NULL), may flush first: then the caller waits until
 * no flush is under way. */
int store_wants_flush(const store_t *s, uint32_t dlen, const lrec_t *read);
/* Bytes between the head and the tail. */
uint64_t store_used(const store_t *s);
/* Moves the head past released records and carries live ones at the head
 * forward (copies at the tail, keeping their seq), until at most TARGET
 * bytes are in use or nothing more can move; the new head goes into the
 * status only once the copies are durable. */
int store_compact(store_t *s, uint64_t target);

#endif
