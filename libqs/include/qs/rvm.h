/*
 * Recoverable virtual memory, with LRVM's semantics and names (Satyanarayanan
 * et al., SOSP 1993), and a Vista mode (Lowell and Chen, SOSP 1997).
 *
 * LRVM mode: external data segments on a device are mapped into memory;
 * a transaction names the ranges it will change with rvm_set_range; at
 * commit the new values of those ranges go to a redo log (a transaction
 * header, the new values of each range, an end mark, checksummed). Undo
 * records (old values) live in memory only, and not at all for no-restore
 * transactions. A flush commit forces the log before it returns; a no-flush
 * commit is buffered, written when log_buf_size bytes are buffered, and
 * forced at the next rvm_flush, flush commit or truncation (explicit,
 * automatic, or the one rvm_map does): a crash before that force may lose
 * it (that is its window of vulnerability), but never half of it, and
 * commits become durable in commit order (a flush commit makes every
 * earlier no-flush one durable too; a crash never keeps a later commit and
 * loses an earlier one). Recovery (in rvm_initialize) replays complete
 * records and ignores a torn tail, but refuses a log damaged before its
 * durable end (RVM_ECORRUPT): every record carries a CRC32C checksum, and
 * damage is reported, never taken for the end of the log. Truncation
 * brings the segments up to date in epochs, beside forward processing; a
 * commit that finds the log more than truncate_pct full runs one in the
 * committing thread, after its record is logged. As LRVM's incremental
 * truncation, an epoch writes the sectors that commits changed from the
 * mapped regions, and applies the log's records only to sectors under
 * open transactions' ranges (and to all after recovery, a failed epoch,
 * or the unmap of a changed region). Recovery and truncation are
 * idempotent, so a crash during either is harmless.
 *
 * Vista mode (RVM_VISTA): the log device and the data segments are one
 * persistent-memory device (dev->mem != NULL). Segments are mapped in
 * place; the undo log lives in the first log_len bytes of the device. There
 * is no redo log and no device write at all: commit drops the transaction's
 * undo records; abort, and recovery after a crash, copy them back. Undo is
 * always kept in Vista mode (a crash needs it), even for no-restore. At
 * most 32 transactions are open at once (begin: RVM_ENO_MEMORY beyond).
 *
 * Two-phase commit (an extension of LRVM's API for transaction managers):
 * rvm_prepare_transaction makes a transaction's new values durable without
 * committing it; rvm_end_transaction then commits it, rvm_abort_transaction
 * aborts it. A prepared transaction a crash interrupted is "in doubt" after
 * recovery: rvm_query lists it, rvm_in_doubt_ranges says what it changed,
 * and rvm_resolve commits or aborts it. The
 * outcome of a prepared transaction is always forced (whatever the end
 * mode), and an undecided one keeps its values in the log across
 * truncations. A participant that may be told to abort begins in
 * RVM_RESTORE mode: a no-restore transaction cannot abort, prepared or not.
 *
 * Errors leave the state as it was: a failed end_transaction leaves the
 * transaction open (it may still abort), a bad argument changes nothing.
 * The exception is RVM_EIO from a log write or sync: every later commit,
 * flush or truncation fails with it too, and rvm_terminate then
 * rvm_initialize (recovery) decide what survived.
 *
 * The library is thread-safe. The caller keeps concurrent transactions'
 * ranges disjoint (RVM does no concurrency control, as in LRVM), and
 * changes mapped memory only within the set ranges of its open
 * transactions (set_range first, as LRVM requires: truncation may write
 * any other byte of a region to its segment as memory holds it).
 * The same code builds for the host (tests/unit) with a file backend.
 */
#ifndef QS_RVM_H
#define QS_RVM_H

#include <stdint.h>

typedef enum {
	RVM_SUCCESS = 0,
	RVM_EINIT,        /* not initialized, or initialized twice */
	RVM_ELOG,         /* the log device is missing, unreadable or no log */
	RVM_ELOG_FULL,    /* the record does not fit in the log */
	RVM_EIO,          /* a device read, write or sync failed */
	RVM_ENO_MEMORY,   /* out of memory */
	RVM_ERANGE,       /* set_range outside every mapped region */
	RVM_ETID,         /* no such transaction, or it has ended */
	RVM_EMODE,        /* a mode that does not fit the call */
	RVM_EREGION,      /* bad region: unaligned, overlapping, not mapped */
	RVM_EOPTIONS,     /* bad options */
	RVM_EUNCOMMITTED, /* unmap with uncommitted transactions on the region */
	RVM_ENOT_FOUND,   /* rvm_resolve: no such in-doubt transaction */
	RVM_ECORRUPT,     /* the log is damaged: recovery refuses to guess */
	RVM_ERR_MAX
} rvm_return_t;

const char *rvm_strerror(rvm_return_t r);

typedef enum {
	RVM_RESTORE = 1,    /* begin: keep undo so the transaction can abort */
	RVM_NO_RESTORE = 2, /* begin: the caller will never abort it */
	RVM_FLUSH = 3,      /* end: force the log before returning */
	RVM_NO_FLUSH = 4,   /* end: buffer the record (lazy commit) */
} rvm_mode_t;

#define RVM_SECTOR 512 /* device I/O unit: offsets and lengths are multiples */

/*
 * A device: a log or a segment. The platform opens them by name (see
 * rvm_options_t.open_dev); a test may supply its own, to crash on purpose.
 * Calls may come from two threads at once (a truncation epoch beside
 * commits); a read may overlap a write in progress, whose changed bytes the
 * reader then does not use.
 */
typedef struct rvm_dev rvm_dev_t;
struct rvm_dev {
	uint64_t size; /* bytes, a multiple of RVM_SECTOR */
	void *mem;     /* persistent memory (Vista): the device itself, else NULL */
	/* offsets and lengths are multiples of RVM_SECTOR; 0 ok, -1 error */
	int (*read)(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len);
	int (*write)(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len);
	int (*sync)(rvm_dev_t *d); /* returns when written data is durable */
	void (*close)(rvm_dev_t *d);
	void *priv;
};
typedef rvm_dev_t *(*rvm_dev_open_fn)(const char *name);

/* The platform's devices (NULL when there is no such device). In the guest:
 * "pmem" is the ivshmem persistent memory ("pmem.fs" its first half,
 * "pmem.rvm" its second), any other name a region of the
 * disk server (qs/disk.h). On the host: a file (Vista: mapped shared). */
rvm_dev_t *rvm_dev_open(const char *name, int vista);

#define RVM_VISTA 0x1 /* options.flags: Vista mode */

/*
 * A log_dev of "node:OWNER" (LRVM mode, in the guest) is the node's log
 * (qs/log.h): the redo records go there as records of OWNER, a name
 * reserved for the server in init's config, beside the TM's and other
 * servers' (libqs/src/rvm_node.c). Then the PREPARE of a two-phase commit
 * and the outcome of a prepared transaction are appended unforced: the
 * TM forces the same log after them. A top-level RVM_FLUSH commit still
 * forces. The node log's manager formats and checks the log; RVM's part
 * of it (options.log_size) is 37% of it.
 */
#define RVM_NODE_LOG "node:"
#define RVM_IN_DOUBT_MAX 16

typedef struct {
	uint64_t commits_flush, commits_noflush, aborts, prepares;
	uint64_t log_forces;    /* syncs of the log device (the node log: 0) */
	uint64_t log_writes;    /* writes to the log device (the node log: 0) */
	uint64_t log_bytes;     /* bytes of records appended */
	uint64_t seg_writes;    /* writes to segment devices (truncation) */
	uint64_t truncations;   /* epochs applied */
	uint64_t trunc_bytes;   /* record bytes applied by truncation */
	uint64_t undo_bytes;    /* bytes of old values saved */
	uint64_t recovered;     /* records replayed (LRVM) or undone (Vista) at init */
} rvm_stats_t;

/* What rvm_initialize found damaged when it returned RVM_ECORRUPT (it
 * also prints it). */
typedef enum {
	RVM_DAMAGE_NONE = 0,
	RVM_DAMAGE_STATUS,  /* neither status copy is valid (Vista: the undo
			     * log's header): a log, but not a usable one */
	RVM_DAMAGE_VERSION, /* a log of another format version */
	RVM_DAMAGE_RECORD,  /* a redo record before the log's durable end */
	RVM_DAMAGE_APPLY,   /* a checked record that cannot be applied */
	RVM_DAMAGE_UNDO,    /* a Vista undo record breaks the rules */
} rvm_damage_kind_t;

typedef struct {
	uint32_t kind;   /* rvm_damage_kind_t */
	uint64_t pos;    /* RECORD: the damaged record's log position;
			  * UNDO: the record's offset in the device */
	uint64_t seq;    /* RECORD: its sequence number */
	uint64_t dev_off; /* RECORD: pos as an offset in the log device */
	uint64_t durable_seq; /* RECORD: records up to this one were forced */
	/* RECORD: the first valid record found past the damage (next_seq 0:
	 * none); records seq..next_seq-1 are lost */
	uint64_t next_pos, next_seq;
} rvm_damage_t;

typedef struct {
	/* in: rvm_initialize, rvm_create_log, rvm_set_options */
	const char *log_dev;     /* the log device's name */
	uint32_t flags;          /* RVM_VISTA */
	uint32_t truncate_pct;   /* truncate when the log is this full (0: 50) */
	uint32_t log_buf_size;   /* no-flush buffer bytes (0: 64 KiB) */
	rvm_dev_open_fn open_dev; /* NULL: rvm_dev_open */
	/* out: rvm_query (which also sets flags, truncate_pct, log_buf_size) */
	uint64_t log_size, log_used; /* bytes */
	uint32_t n_uncommitted;      /* open (incl. prepared) transactions */
	uint32_t n_in_doubt;         /* may exceed RVM_IN_DOUBT_MAX */
	uint64_t in_doubt[RVM_IN_DOUBT_MAX]; /* their gtids (the first ones) */
	rvm_stats_t stats;
	rvm_damage_t damage; /* out: rvm_initialize, with RVM_ECORRUPT */
} rvm_options_t;

typedef struct {
	const char *data_dev; /* the segment's device (Vista: the log device) */
	uint64_t offset;      /* in the device; a multiple of RVM_SECTOR */
	uint32_t length;      /* bytes; a multiple of RVM_SECTOR */
	void *vmaddr;         /* out: where the region is mapped */
} rvm_region_t;

typedef struct {
	uint32_t id; /* 0: none */
} rvm_tid_t;

/* Opens the log and recovers (replays, or undoes in Vista mode). version
 * is not checked (NULL is fine). LRVM recovery needs every segment device
 * the log names. RVM_ELOG: no device, or one never formatted (LRVM: both
 * status sectors all zero; Vista: the undo log's header all zero);
 * RVM_ECORRUPT: a damaged log (options->damage says what); RVM_EIO: the
 * device failed. */
rvm_return_t rvm_initialize(const char *version, rvm_options_t *options);
/* Writes an empty log of log_len bytes on options->log_dev (Vista: the
 * undo area at the start of the persistent memory). Before rvm_initialize.
 * LRVM zeroes all log_len bytes, so no old record survives. */
rvm_return_t rvm_create_log(rvm_options_t *options, uint64_t log_len);
/* Maps a segment region (LRVM: read into fresh memory after a truncation,
 * so the segment holds every commit, from a device other than the log;
 * Vista: in place, at an offset past the undo area). Devices open with the
 * open_dev given to rvm_initialize; options may be NULL. */
rvm_return_t rvm_map(rvm_region_t *region, rvm_options_t *options);
/* Finds the region by vmaddr; waits for a truncation epoch under way. */
rvm_return_t rvm_unmap(rvm_region_t *region);
rvm_return_t rvm_begin_transaction(rvm_tid_t *tid, rvm_mode_t mode);
/* The range must lie within one mapped region; length 0 does nothing.
 * Ranges may overlap or repeat (LRVM coalesces them). */
rvm_return_t rvm_set_range(rvm_tid_t *tid, void *dest, uint32_t length);
rvm_return_t rvm_end_transaction(rvm_tid_t *tid, rvm_mode_t mode);
rvm_return_t rvm_abort_transaction(rvm_tid_t *tid);
rvm_return_t rvm_flush(void);
/* Applies everything committed so far to the segments; returns when done. */
rvm_return_t rvm_truncate(void);
/* region NULL: the whole library; else n_uncommitted counts only the
 * transactions with ranges in that mapped region (RVM_EREGION if none). */
rvm_return_t rvm_query(rvm_options_t *options, rvm_region_t *region);
/* Changes truncate_pct and log_buf_size (0: their defaults). */
rvm_return_t rvm_set_options(rvm_options_t *options);
/* Two-phase commit: force the new values, keep the transaction open (no
 * more set_range: RVM_EMODE). gtid is non-zero and not that of another
 * undecided transaction (else RVM_EMODE). */
rvm_return_t rvm_prepare_transaction(rvm_tid_t *tid, uint64_t gtid);
/* Commits (commit != 0) or aborts an in-doubt transaction after recovery;
 * the outcome is forced. LRVM: to commit, the regions it touched must be
 * mapped (else RVM_EREGION); its new values are copied into them. Vista:
 * the new values are in place already; an abort copies the old ones back. */
rvm_return_t rvm_resolve(uint64_t gtid, int commit);
/* A range an in-doubt transaction changed, where it is mapped. */
typedef struct {
	void *addr;
	uint32_t len;
} rvm_span_t;
/* The ranges an in-doubt transaction changed: the first max of them into
 * spans, how many there are into *n (may exceed max), so that the caller
 * can keep others off those bytes until rvm_resolve (RVM does no
 * concurrency control). LRVM: the ranges of its PREPARE record (coalesced;
 * the mapped regions still hold the old values there); Vista: those of its
 * undo records (possibly overlapping; the new values are in place). A
 * range outside every mapped region: RVM_EREGION; no such in-doubt
 * transaction: RVM_ENOT_FOUND. */
rvm_return_t rvm_in_doubt_ranges(uint64_t gtid, rvm_span_t *spans,
				 uint32_t max, uint32_t *n);
/* Closes the log and the devices (unmaps everything; no open transaction).
 * LRVM: the status block then records the log's durable end, so that
 * damage to its last records is found too. */
rvm_return_t rvm_terminate(void);

/*
 * A server's start (libqs/src/rvm_open.c): rvm_initialize on o->log_dev,
 * creating the log (log_len bytes; 0: the whole device) on a device never
 * formatted. A log that cannot be opened (RVM_ECORRUPT, RVM_EIO) is never
 * formatted unless format, a comma-separated list of log device names
 * (the boot argument format=), names it; else the server's refusal and
 * how to format are printed (prefixed with who) and the error returned.
 * RVM_ELOG: there is no such device.
 */
rvm_return_t rvm_open_log(const char *who, rvm_options_t *o, uint64_t log_len,
			  const char *format);
/* The same with format from the boot argument format= (guest only). */
rvm_return_t rvm_open_log_boot(const char *who, rvm_options_t *o,
			       uint64_t log_len);

#endif
