/* Client of the echo server: sends its arguments and prints the answer. */
#include <stdio.h>
#include <string.h>
#include <qs/echo.h>
#include <qs/sq.h>
#include <qs/sys.h>

int
main(int argc, char **argv)
{
	static qs_msg_t req, reply;
	int upper = argc > 1 && strcmp(argv[1], "-u") == 0;
	int qid = qs_sq_lookup(ECHO_QUEUE);

	if (qid < 0) {
		printf("echo: no queue %s: %s\n", ECHO_QUEUE, qs_strerror(qid));
		return 1;
	}
	qs_msg_init(&req, upper ? ECHO_OP_UPPER : ECHO_OP_ECHO);
	for (int i = 1 + upper; i < argc; i++) {
		if (i > 1 + upper)
			qs_msg_put(&req, " ", 1);
		qs_msg_put(&req, argv[i], strlen(argv[i]));
	}
	int status = qs_call(qid, &req, &reply, sizeof(reply));
	if (status < 0) {
		printf("echo: %s\n", qs_strerror(status));
		return 1;
	}
	printf("echo: %.*s\n", (int)reply.hdr.len, (const char *)reply.data);
	return 0;
}
