/*
 * init's watch over the services, client side (qs/svc.h): one synchronous
 * request per call on this node's queue "init".
 */
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/svc.h>

static int
svc_call(uint32_t op, const char *name, void *out, size_t cap)
{
	svc_name_t n;
	if (name && (!name[0] || strlen(name) >= sizeof(n.name)))
		return QS_EINVAL;
	int qid = qs_sq_lookup(SVC_QUEUE);
	if (qid < 0)
		return qid;
	qs_msg_t *req = malloc(sizeof(qs_msg_t));
	qs_msg_t *reply = malloc(sizeof(qs_msg_t));
	int r = QS_ENOMEM;
	if (req && reply) {
		qs_msg_init(req, op);
		r = 0;
		if (name) {
			memset(&n, 0, sizeof(n));
			strcpy(n.name, name);
			r = qs_msg_put(req, &n, sizeof(n));
		}
		if (r >= 0)
			r = qs_call(qid, req, reply, sizeof(*reply));
		if (r >= 0 && out) {
			size_t k = reply->hdr.len < cap ? reply->hdr.len : cap;
			memcpy(out, reply->data, k);
			memset((char *)out + k, 0, cap - k);
		}
	}
	free(req);
	free(reply);
	return r;
}

int
qs_svc_list(svc_list_t *out)
{
	int r = svc_call(SVC_OP_LIST, NULL, out, sizeof(*out));
	if (r >= 0 && out->n > SVC_MAX)
		return QS_EIO;
	return r;
}

int
qs_svc_kill(const char *name)
{
	return svc_call(SVC_OP_KILL, name, NULL, 0);
}

int
qs_svc_hang(const char *name)
{
	return svc_call(SVC_OP_HANG, name, NULL, 0);
}
