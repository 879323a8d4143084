/*
 * The node log's client side (qs/log.h): one synchronous request per call
 * on queue "log" (qs_log_stats_at: any node's), looked up on every call so
 * that a restarted log manager is found again. Messages are allocated per call, so that the threads of
 * one owner wait for their forces together (group commit). A record's data
 * goes out of line, and comes back in pieces.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/sq.h>

/*
 * A request on this node's log manager (qs_call_name), under the caller's
 * own default transaction: the log is the owner's own work, never a
 * client's, so a client's transaction that aborted (whose requests the
 * kernel refuses, orphans) cannot break it.
 */
static int
log_call(uint32_t op, const void *data, size_t len, const void *ool,
	 size_t ool_len, void *out, size_t cap)
{
	uint64_t was = qs_tx_get();
	qs_tx_set(0);
	int r = qs_call_name(LOG_QUEUE, op, data, len, ool, ool_len, out, cap);
	qs_tx_set(was);
	return r;
}

int
qs_log_open(const char *owner, uint32_t *handle, uint32_t *records)
{
	log_open_t o;
	log_opened_t out;
	memset(&o, 0, sizeof(o));
	if (!owner[0] || strlen(owner) >= sizeof(o.name))
		return QS_EINVAL;
	strcpy(o.name, owner);
	int r = log_call(LOG_OP_OPEN, &o, sizeof(o), NULL, 0, &out,
			 sizeof(out));
	if (r >= 0) {
		*handle = out.owner;
		if (records)
			*records = out.records;
	}
	return r;
}

int
qs_log_append(uint32_t handle, uint16_t kind, uint64_t key, const void *data,
	      uint32_t len, uint32_t flags, uint64_t *seq)
{
	log_append_t a = { handle, kind, (uint16_t)flags, key };
	log_pos_t pos;
	if (len > LOG_DATA_MAX)
		return QS_EINVAL;
	int r = log_call(LOG_OP_APPEND, &a, sizeof(a), data, len, &pos,
			 sizeof(pos));
	if (r >= 0 && seq)
		*seq = pos.seq;
	return r;
}

int
qs_log_force(uint32_t handle, uint64_t seq, uint32_t flags)
{
	log_force_t f = { handle, flags, seq };
	return log_call(LOG_OP_FORCE, &f, sizeof(f), NULL, 0, NULL, 0);
}

/* The record in pieces of LOG_READ_MAX, each a request. */
int
qs_log_read(uint32_t handle, uint64_t after, log_rec_t *rec, void *data,
	    uint32_t cap)
{
	static const size_t most = sizeof(log_rec_t) + LOG_READ_MAX;
	uint8_t *buf = malloc(most);
	if (!buf)
		return QS_ENOMEM;
	log_read_t rd = { handle, 0, after };
	int r;
	do {
		r = log_call(LOG_OP_READ, &rd, sizeof(rd), NULL, 0, buf, most);
		if (r < 0)
			break;
		log_rec_t got;
		memcpy(&got, buf, sizeof(got));
		if (rd.offset && (got.seq != rec->seq || got.len != rec->len)) {
			r = QS_EIO; /* released or moved meanwhile */
			break;
		}
		*rec = got;
		uint32_t n = rec->len - rd.offset;
		n = n < LOG_READ_MAX ? n : LOG_READ_MAX;
		if (rec->len > LOG_DATA_MAX) {
			r = QS_EIO;
			break;
		}
		if (rd.offset < cap)
			memcpy((uint8_t *)data + rd.offset, buf + sizeof(got),
			       n < cap - rd.offset ? n : cap - rd.offset);
		rd.offset += n;
	} while (rd.offset < rec->len && rd.offset < cap);
	free(buf);
	return r;
}

int
qs_log_release(uint32_t handle, uint64_t key, uint64_t last)
{
	log_release_t rl = { handle, 0, key, last };
	return log_call(LOG_OP_RELEASE, &rl, sizeof(rl), NULL, 0, NULL, 0);
}

/* Stats are anyone's, a remote caller's too (the CM forwards "log@N"). */
int
qs_log_stats_at(const char *queue, log_stats_t *out)
{
	return qs_call_name(queue, LOG_OP_STATS, NULL, 0, NULL, 0, out,
			   sizeof(*out));
}

int
qs_log_stats(log_stats_t *out)
{
	return qs_log_stats_at(LOG_QUEUE, out);
}

int
qs_log_crash_at(uint32_t flush, uint32_t how)
{
	log_crash_t c = { flush, how };
	return log_call(LOG_OP_CRASH, &c, sizeof(c), NULL, 0, NULL, 0);
}
