/*
 * Client of the echo server: sends its arguments and prints the answer.
 * `echo [-q QUEUE] [-u] WORDS...`: -q asks another queue, e.g. "echo@1",
 * the echo server of node 1; -u asks for upper case.
 */
#include <stdio.h>
#include <string.h>
#include <qs/echo.h>
#include <qs/sq.h>
#include <qs/sys.h>

int
main(int argc, char **argv)
{
	static qs_msg_t req, reply;
	const char *queue = ECHO_QUEUE;
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "-q") == 0) {
		queue = argv[2];
		first = 3;
	}
	int upper = argc > first && strcmp(argv[first], "-u") == 0;
	first += upper;
	int qid = qs_sq_lookup(queue);

	if (qid < 0) {
		printf("echo: no queue %s: %s\n", queue, qs_strerror(qid));
		return 1;
	}
	qs_msg_init(&req, upper ? ECHO_OP_UPPER : ECHO_OP_ECHO);
	for (int i = first; i < argc; i++) {
		if (i > first)
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
