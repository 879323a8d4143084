/*
 * The node log's client side (qs/log.h): one synchronous request per call
 * on queue "log", looked up on every call so that a restarted log manager
 * is found again. Messages are allocated per call, so that the threads of
 * one owner wait for their forces together (group commit).
 */
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/sq.h>

/* Sends op with data (len bytes, then extra); the answer's data, up to
 * cap bytes, into out. */
static int
log_call(uint32_t op, const void *data, size_t len, const void *extra,
	 size_t extra_len, void *out, size_t cap)
{
	int qid = qs_sq_lookup(LOG_QUEUE);
	if (qid < 0)
		return qid;
	qs_msg_t *req = malloc(sizeof(qs_msg_t));
	qs_msg_t *reply = malloc(sizeof(qs_msg_t));
	int r = QS_ENOMEM;
	if (req && reply) {
		qs_msg_init(req, op);
		r = qs_msg_put(req, data, len);
		if (r >= 0 && extra_len)
			r = qs_msg_put(req, extra, extra_len);
		if (r >= 0)
			r = qs_call(qid, req, reply, sizeof(*reply));
		if (r >= 0 && out)
			memcpy(out, reply->data,
			       reply->hdr.len < cap ? reply->hdr.len : cap);
		if (r >= 0 && out && reply->hdr.len < cap)
			memset((char *)out + reply->hdr.len, 0,
			       cap - reply->hdr.len);
	}
	free(req);
	free(reply);
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
qs_log_force(uint32_t handle, uint64_t seq)
{
	log_force_t f = { handle, 0, seq };
	return log_call(LOG_OP_FORCE, &f, sizeof(f), NULL, 0, NULL, 0);
}

int
qs_log_read(uint32_t handle, uint64_t after, log_rec_t *rec, void *data,
	    uint32_t cap)
{
	log_read_t rd = { handle, 0, after };
	static const size_t most = sizeof(log_rec_t) + LOG_DATA_MAX;
	uint8_t *buf = malloc(most);
	if (!buf)
		return QS_ENOMEM;
	int r = log_call(LOG_OP_READ, &rd, sizeof(rd), NULL, 0, buf, most);
	if (r >= 0) {
		memcpy(rec, buf, sizeof(*rec));
		if (rec->len > LOG_DATA_MAX)
			r = QS_EIO;
		else
			memcpy(data, buf + sizeof(*rec),
			       rec->len < cap ? rec->len : cap);
	}
	free(buf);
	return r;
}

int
qs_log_release(uint32_t handle, uint64_t key)
{
	log_release_t rl = { handle, 0, key };
	return log_call(LOG_OP_RELEASE, &rl, sizeof(rl), NULL, 0, NULL, 0);
}

int
qs_log_stats(log_stats_t *out)
{
	return log_call(LOG_OP_STATS, NULL, 0, NULL, 0, out, sizeof(*out));
}
