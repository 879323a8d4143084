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
	memset(&n, 0, sizeof(n));
	if (name && (!name[0] || strlen(name) >= sizeof(n.name)))
		return QS_EINVAL;
	if (name)
		strcpy(n.name, name);
	return qs_call_name(SVC_QUEUE, op, &n, name ? sizeof(n) : 0, NULL, 0,
			    out, cap);
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
