/* Filling and reading service-queue messages; pure, so unit-tested on the host. */
#include <stddef.h>
#include <string.h>
#include <qs/sq.h>

void
qs_msg_init(qs_msg_t *m, uint32_t opcode)
{
	/* every field, one store each: on every request's and reply's way */
	_Static_assert(sizeof(qs_msg_hdr_t) ==
			       ((offsetof(qs_msg_hdr_t, src_rights) + 4 +
				 _Alignof(qs_msg_hdr_t) - 1) &
				~(_Alignof(qs_msg_hdr_t) - 1)),
		       "src_rights is the last field: set a new one here");
	qs_msg_hdr_t *h = &m->hdr;
	h->rid = h->qid = 0;
	h->txid = 0;
	h->src_node = 0;
	h->src_pid = 0;
	h->opcode = opcode;
	h->status = 0;
	h->len = h->ool_len = h->ool = h->flags = h->src_rights = 0;
}

int
qs_msg_put(qs_msg_t *m, const void *data, size_t len)
{
	if (len > QS_MSG_INLINE - m->hdr.len)
		return QS_E2BIG;
	memcpy(m->data + m->hdr.len, data, len);
	m->hdr.len += len;
	return 0;
}

int
qs_msg_put_str(qs_msg_t *m, const char *s)
{
	return qs_msg_put(m, s, strlen(s) + 1);
}

const void *
qs_msg_get(const qs_msg_t *m, size_t *off, size_t len)
{
	if (*off > m->hdr.len || len > m->hdr.len - *off)
		return NULL;
	const void *p = m->data + *off;
	*off += len;
	return p;
}

void
qs_msg_set_ool(qs_msg_t *m, const void *data, size_t len)
{
	m->hdr.ool = (uint32_t)(uintptr_t)data;
	m->hdr.ool_len = len;
}
