/*
 * init's watch over the node's services: protocol of queue "init"
 * (servers/init/svc.c; the shell's `svc`).
 *
 * A service is a program init's config marks with `watch` (MINIX 3's
 * reincarnation server): when it ends, for any reason, init starts it
 * again with the same arguments, grants, rights and names, after a
 * backoff that grows while it keeps dying, and gives up on one that dies
 * SVC_DEATHS_MAX times within SVC_WINDOW_MS. A service watched with a
 * queue is also sent a keep-alive (QS_OP_PING, qs/serve.h) every
 * SVC_PING_EVERY_MS; one that does not answer within its time is hung:
 * init kills it, and starts it again like any other that died.
 *
 * A program marked `essential` (the TM, the CM, the log manager) is not
 * started again: the node's recovery state died with it, so init stops
 * the node, which recovers from its log when it is started again.
 *
 * Who may: anyone on the node may list; killing or hanging a service on
 * purpose (to watch it come back) takes QS_RIGHT_SVC, which init.conf
 * gives the shell. Errors: QS_EPERM (no right, or not local), QS_EINVAL
 * (malformed), QS_ENOENT (no watched or essential program of that
 * name), QS_EAGAIN
 * (it is not running now: between a death and its restart, or given up).
 */
#ifndef QS_SVC_H
#define QS_SVC_H

#include <stdint.h>
#include <qs/abi.h>

#define SVC_QUEUE "init"
#define SVC_MAX 24            /* programs init's config may start */
#define SVC_DEATHS_MAX 5      /* deaths within SVC_WINDOW_MS: given up */
#define SVC_WINDOW_MS 30000
#define SVC_BACKOFF_MS 250    /* the second death's wait; doubles after */
#define SVC_BACKOFF_MAX_MS 4000
#define SVC_PING_EVERY_MS 1000

enum {
	SVC_OP_LIST = 1, /* nothing -> svc_list_t */
	SVC_OP_KILL = 2, /* svc_name_t -> 0: kills it (init restarts it; an
			    essential one stops the node) */
	SVC_OP_HANG = 3, /* svc_name_t -> 0: it stops answering (QS_OP_HANG),
			    until the keep-alive finds it hung; only for a
			    service watched with a queue */
};

enum {
	SVC_UNWATCHED = 0, /* started by the config, not restarted */
	SVC_RUNNING = 1,
	SVC_RESTARTING = 2, /* died; starts again at its backoff's end */
	SVC_GIVEN_UP = 3,   /* died SVC_DEATHS_MAX times in SVC_WINDOW_MS */
	SVC_ENDED = 4,      /* unwatched, and ended */
	SVC_ESSENTIAL = 5,  /* running; its death stops the node */
};

typedef struct {
	char name[QS_NAME_MAX]; /* NUL-terminated */
} svc_name_t;

typedef struct {
	char name[QS_NAME_MAX];  /* the program */
	char queue[QS_NAME_MAX]; /* its keep-alive queue, or "" */
	int32_t pid;             /* running now, or 0 */
	uint32_t state;          /* SVC_* */
	uint32_t restarts;       /* times init started it again */
	uint32_t hangs;          /* times the keep-alive found it hung */
	uint32_t ping_ms;        /* its keep-alive's time, or 0 */
	char last[40];           /* how it last ended: "killed", "fault",
				    "exit 3", "hung", or "" */
} svc_info_t;

typedef struct {
	uint32_t n;
	svc_info_t svc[SVC_MAX];
} svc_list_t;

int qs_svc_list(svc_list_t *out);
int qs_svc_kill(const char *name);
int qs_svc_hang(const char *name);

#endif
