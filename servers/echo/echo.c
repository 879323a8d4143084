/*
 * echod, the example server: answers on queue "echo" with what it was sent.
 * It uses only the public libqs API; docs/writing-a-server.md builds it.
 */
#include <ctype.h>
#include <stdio.h>
#include <qs/echo.h>
#include <qs/serve.h>
#include <qs/sys.h>

static int32_t
do_echo(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)ctx;
	qs_msg_put(reply, req->data, req->hdr.len);
	qs_msg_set_ool(reply, (const void *)req->hdr.ool, req->hdr.ool_len);
	return 0;
}

static int32_t
do_upper(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)ctx;
	for (uint32_t i = 0; i < req->hdr.len; i++) {
		char c = (char)toupper(req->data[i]);
		qs_msg_put(reply, &c, 1);
	}
	return 0;
}

/* Any bytes, inline and (for ECHO) out of line: nothing to decode. */
static const qs_op_t ops[] = {
	[ECHO_OP_ECHO] = { "echo", 0, QS_MSG_INLINE, QS_MSG_OOL_MAX, NULL, do_echo },
	[ECHO_OP_UPPER] = { "upper", 0, QS_MSG_INLINE, 0, NULL, do_upper },
};
static qs_server_t server = QS_SERVER("echod", ops, NULL);

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
	return qs_serve_table(qid, &server, 2) < 0;
}
