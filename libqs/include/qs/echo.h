/* The echo server's protocol: queue "echo". */
#ifndef QS_ECHO_H
#define QS_ECHO_H

#define ECHO_QUEUE "echo"

/* Errors: QS_ENOSYS for any other opcode, QS_EINVAL for out-of-line data
 * with UPPER; nothing else fails. */
enum {
	ECHO_OP_ECHO = 1,  /* reply: the request's data and out-of-line bytes */
	ECHO_OP_UPPER = 2, /* reply: the data as upper case */
};

#endif
