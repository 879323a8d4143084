/*
 * echod, the example server: answers on queue "echo" with what it was sent.
 * It uses only the public libqs API; docs/writing-a-server.md builds it.
 */
#include <ctype.h>
#include <stdio.h>
#include <qs/echo.h>
#include <qs/sq.h>
#include <qs/sys.h>

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	switch (req->hdr.opcode) {
	case ECHO_OP_ECHO:
		qs_msg_put(reply, req->data, req->hdr.len);
		qs_msg_set_ool(reply, (const void *)req->hdr.ool, req->hdr.ool_len);
		return 0;
	case ECHO_OP_UPPER:
		for (uint32_t i = 0; i < req->hdr.len; i++) {
			char c = (char)toupper(req->data[i]);
			qs_msg_put(reply, &c, 1);
		}
		return 0;
	default:
		return QS_EINVAL;
	}
}

int
main(void)
{
	/* As deep as a queue goes: a request another node's CM injects into a
	   full queue is refused and sent again a retransmission timeout later,
	   which pipelined remote clients (netbench's 64 in flight) would hit. */
	int qid = qs_sq_create(ECHO_QUEUE, QS_SQ_DEPTH_MAX);
	if (qid < 0) {
		printf("echod: cannot create queue %s: %s\n", ECHO_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	printf("echod: serving queue %s (qid %d)\n", ECHO_QUEUE, qid);
	return qs_serve(qid, handle, NULL, 2) < 0;
}
