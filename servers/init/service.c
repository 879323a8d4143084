/*
 * init's programs, and its watch over the services among them (protocol:
 * qs/svc.h; design: README.md). MINIX 3's reincarnation server, in init:
 * init is every config program's parent, so it hears of each death first
 * (waitpid), and it holds what a program needs to start again: its
 * arguments, grants, rights and names, recorded as the config gave them.
 *
 * Three kinds of thread share the table under one lock: init's main
 * thread, which reaps (svc_ended); the restarter, which starts again the
 * services whose backoff is over; a keep-alive thread per service watched
 * with a queue; and the server of queue "init".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/svc.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "service.h"

#define GRANTS_MAX 16
#define ARGS_MAX 16
#define ARGS_BYTES 256
#define TICK_MS 50             /* the restarter's */
#define PING_DEFAULT_MS 3000   /* `watch QUEUE` without a time */
#define PING_MAX_MS 600000
#define PING_MIN_MS 100
#define DEAD_ANSWER_MS 10000   /* for a killed server's unanswered ping */
#define SVC_QUICK_MS 1000      /* a clean exit sooner than this counts */

typedef struct {
	int kind;
	uint32_t base, len;
	char name[QS_NAME_MAX]; /* a name grant's name */
} grant_rec_t;

typedef struct {
	svc_info_t info;
	char args[ARGS_BYTES];         /* its arguments, one after the other */
	const char *argv[ARGS_MAX + 1];
	grant_rec_t grants[GRANTS_MAX];
	int ngrants;
	bool watched;
	bool essential;        /* its death stops the node */
	bool hung;             /* the keep-alive killed it */
	uint32_t deaths;       /* crashes since window_start */
	uint32_t started_at;   /* when it was last started (uptime ms) */
	uint32_t window_start;
	uint32_t restart_at;   /* SVC_RESTARTING: when (uptime ms) */
	int hang_rid;          /* the QS_OP_HANG sent to it, to collect */
} svc_t;

static qs_mutex_t lock = QS_MUTEX_INIT;
static svc_t svcs[SVC_MAX];
static int nsvcs;
static uint32_t self_node;

/* ---- starting ------------------------------------------------------------ */

/* With the lock: s's program, suspended. */
static int
spawn(svc_t *s)
{
	int pid = qs_spawn(s->info.name, s->argv, QS_SPAWN_SUSPENDED);
	if (pid < 0)
		snprintf(s->info.last, sizeof(s->info.last), "cannot start: %s",
			 qs_strerror(pid));
	return pid;
}

int
svc_start(char **argv, int lineno)
{
	qs_mutex_lock(&lock);
	if (nsvcs == SVC_MAX || strlen(argv[0]) >= QS_NAME_MAX) {
		qs_mutex_unlock(&lock);
		printf("[init] line %d: cannot start %s: %s\n", lineno, argv[0],
		       nsvcs == SVC_MAX ? "too many programs" : "name too long");
		return QS_ELIMIT;
	}
	svc_t *s = &svcs[nsvcs++];
	memset(s, 0, sizeof(*s));
	strcpy(s->info.name, argv[0]);
	size_t used = 0;
	int n = 0;
	for (int i = 1; argv[i] && n < ARGS_MAX; i++) {
		size_t len = strlen(argv[i]) + 1;
		if (used + len > sizeof(s->args))
			break; /* the config's line is shorter than this */
		memcpy(s->args + used, argv[i], len);
		s->argv[n++] = s->args + used;
		used += len;
	}
	s->argv[n] = NULL;
	int pid = spawn(s);
	if (pid < 0) {
		printf("[init] line %d: cannot start %s: %s\n", lineno,
		       argv[0], qs_strerror(pid));
		s->info.state = SVC_ENDED;
	} else {
		s->info.pid = pid;
		s->started_at = qs_uptime_ms();
	}
	qs_mutex_unlock(&lock);
	return pid;
}

/* With the lock: what s was granted, again, to its new process. */
static void
regrant(svc_t *s)
{
	for (int i = 0; i < s->ngrants; i++) {
		grant_rec_t *g = &s->grants[i];
		uint32_t base = g->kind == QS_GRANT_NAME
					? (uint32_t)(uintptr_t)g->name
					: g->base;
		int r = qs_grant(s->info.pid, g->kind, base, g->len);
		if (r < 0)
			printf("[init] %s: a grant failed again: %s\n",
			       s->info.name, qs_strerror(r));
	}
}

int
svc_grant(int kind, uint32_t base, uint32_t len)
{
	qs_mutex_lock(&lock);
	svc_t *s = &svcs[nsvcs - 1];
	int r = qs_grant(s->info.pid, kind, base, len);
	if (r == 0 && s->ngrants < GRANTS_MAX) {
		grant_rec_t *g = &s->grants[s->ngrants++];
		g->kind = kind;
		g->base = base;
		g->len = len;
		if (kind == QS_GRANT_NAME)
			strlcpy(g->name, (const char *)(uintptr_t)base,
				sizeof(g->name));
	} else if (r == 0) {
		printf("[init] %s: more than %d grants: a restart would not "
		       "have them all\n", s->info.name, GRANTS_MAX);
	}
	qs_mutex_unlock(&lock);
	return r;
}

/* ---- deaths and restarts --------------------------------------------------- */

/* Waits after a service's deaths-th crash in its window. */
static uint32_t
backoff(uint32_t deaths)
{
	if (deaths <= 1)
		return 0;
	uint32_t ms = SVC_BACKOFF_MS << (deaths - 2 < 8 ? deaths - 2 : 8);
	return ms < SVC_BACKOFF_MAX_MS ? ms : SVC_BACKOFF_MAX_MS;
}

/* With the lock: s died (or could not start again); counts it and says
 * when it starts again, or gives up on it. */
static void
died(svc_t *s, bool crash)
{
	uint32_t now = qs_uptime_ms();
	if (!crash && now - s->started_at < SVC_QUICK_MS)
		crash = true; /* ended as it began: a loop to slow down */
	if (!crash) { /* a clean exit: started again at once, not counted */
		s->info.state = SVC_RESTARTING;
		s->restart_at = now;
		printf("[init] %s ended (%s); starting it again\n",
		       s->info.name, s->info.last);
		return;
	}
	if (!s->deaths || now - s->window_start > SVC_WINDOW_MS) {
		s->deaths = 0;
		s->window_start = now;
	}
	if (++s->deaths >= SVC_DEATHS_MAX) {
		s->info.state = SVC_GIVEN_UP;
		printf("[init] %s died %u times in %u s (last: %s): given up; "
		       "it stays down until the node restarts\n", s->info.name,
		       s->deaths, SVC_WINDOW_MS / 1000, s->info.last);
		return;
	}
	uint32_t wait = backoff(s->deaths);
	s->info.state = SVC_RESTARTING;
	s->restart_at = now + wait;
	printf("[init] %s died (%s); starting it again in %u ms\n",
	       s->info.name, s->info.last, wait);
}

/*
 * With the lock: an essential server died (the TM, the CM, the log
 * manager): what the node knew of its transactions, its peers or its log
 * died with it, and a new one could not tell the others what they hold.
 * The node stops, as a power cut would stop it; started again (qsnet
 * restart-node), it recovers from its log in a new incarnation, which
 * the other nodes see as this node's restart.
 */
static void
stop_node(const svc_t *s)
{
	printf("[init] %s died (%s): it holds the node's recovery state, so "
	       "the node stops; restart it (qsnet restart-node) and it "
	       "recovers from its log\n", s->info.name, s->info.last);
	int r = qs_grant(QS_INIT_PID, QS_GRANT_RIGHTS, QS_RIGHT_HALT, 0);
	if (r == 0)
		r = qs_halt();
	printf("[init] cannot stop the node: %s\n", qs_strerror(r));
}

void
svc_ended(int pid, int status, bool starting)
{
	qs_mutex_lock(&lock);
	svc_t *s = NULL;
	for (int i = 0; i < nsvcs && !s; i++)
		if (svcs[i].info.pid == pid)
			s = &svcs[i];
	if (!s) { /* an orphan init adopted */
		qs_mutex_unlock(&lock);
		return;
	}
	s->info.pid = 0;
	if (s->hung)
		snprintf(s->info.last, sizeof(s->info.last), "hung");
	else if (status & QS_STATUS_KILLED)
		snprintf(s->info.last, sizeof(s->info.last), "killed");
	else if (status & QS_STATUS_FAULT)
		snprintf(s->info.last, sizeof(s->info.last), "fault");
	else
		snprintf(s->info.last, sizeof(s->info.last), "exit %d",
			 status & 0xFF);
	if (starting) /* it never served: no device, say; nothing to redo */
		s->info.state = SVC_ENDED;
	else if (s->essential)
		stop_node(s);
	else if (s->watched)
		died(s, s->hung || status != 0);
	else
		s->info.state = SVC_ENDED;
	qs_mutex_unlock(&lock);
}

/* With the lock: s's backoff is over. */
static void
restart(svc_t *s)
{
	if (s->hang_rid > 0) { /* answered QS_ESRVDIED when it died */
		qs_msg_t *m = malloc(sizeof(*m));
		if (m)
			qs_wait(s->hang_rid, m, sizeof(*m), 0);
		free(m);
		s->hang_rid = 0;
	}
	s->hung = false;
	int pid = spawn(s);
	if (pid < 0) {
		printf("[init] %s: %s\n", s->info.name, s->info.last);
		died(s, true);
		return;
	}
	s->info.pid = pid;
	s->started_at = qs_uptime_ms();
	regrant(s);
	qs_resume(pid);
	s->info.state = SVC_RUNNING;
	s->info.restarts++;
	printf("[init] %s started again (pid %d, restart %u)\n", s->info.name,
	       pid, s->info.restarts);
}

static void *
restarter(void *arg)
{
	(void)arg;
	for (;;) {
		qs_sleep(TICK_MS);
		qs_mutex_lock(&lock);
		uint32_t now = qs_uptime_ms();
		for (int i = 0; i < nsvcs; i++)
			if (svcs[i].info.state == SVC_RESTARTING &&
			    (int32_t)(now - svcs[i].restart_at) >= 0)
				restart(&svcs[i]);
		qs_mutex_unlock(&lock);
	}
	return NULL;
}

/* ---- keep-alive ------------------------------------------------------------ */

/* The qid of s's queue if s's process serves it here, else negative;
 * *done (if not NULL): the requests it has completed so far. */
static int
served_by(const svc_t *s, int pid, uint32_t *done)
{
	qs_sq_info_t q;
	if (!pid || qs_sq_find(s->info.queue, &q) < 0 || q.owner != pid ||
	    q.node != self_node)
		return QS_ENOENT;
	if (done)
		*done = q.completed;
	return q.qid;
}

static void *
keepalive(void *arg)
{
	svc_t *s = arg;
	qs_msg_t *req = malloc(sizeof(*req)), *reply = malloc(sizeof(*reply));
	if (!req || !reply) {
		printf("[init] %s: no memory for its keep-alive\n", s->info.name);
		return NULL;
	}
	for (;;) {
		qs_sleep(SVC_PING_EVERY_MS);
		qs_mutex_lock(&lock);
		int pid = s->info.state == SVC_RUNNING ? s->info.pid : 0;
		uint32_t done0 = 0, done1 = 0;
		int qid = served_by(s, pid, &done0);
		uint32_t ms = s->info.ping_ms;
		qs_mutex_unlock(&lock);
		if (qid < 0)
			continue; /* not serving (yet): starting, recovering */
		qs_msg_init(req, QS_OP_PING);
		int rid = qs_send(qid, req);
		if (rid < 0)
			continue;
		/* answered: it takes requests; unanswered but others completed
		   meanwhile: busy, the ping behind them (wait on) */
		int r;
		while ((r = qs_wait(rid, reply, sizeof(*reply), (int32_t)ms)) !=
			       rid &&
		       served_by(s, pid, &done1) == qid && done1 != done0)
			done0 = done1;
		if (r == rid)
			continue;
		qs_mutex_lock(&lock);
		if (s->info.pid == pid) {
			s->hung = true;
			s->info.hangs++;
			printf("[init] %s (pid %d) did not answer its keep-alive "
			       "in %u ms: hung; killing it\n", s->info.name, pid,
			       ms);
			int r = qs_kill(pid);
			if (r < 0)
				printf("[init] cannot kill %s: %s\n",
				       s->info.name, qs_strerror(r));
		}
		qs_mutex_unlock(&lock);
		qs_wait(rid, reply, sizeof(*reply), DEAD_ANSWER_MS);
	}
	return NULL;
}

int
svc_watch(const char *queue, uint32_t ping_ms)
{
	qs_mutex_lock(&lock);
	svc_t *s = &svcs[nsvcs - 1];
	int r = 0;
	if (s->essential || (s->watched && (s->info.queue[0] || !queue))) {
		r = QS_EINVAL; /* one watch line (the shell's is implicit) */
	} else if (queue && (strlen(queue) >= QS_NAME_MAX || !ping_ms ||
			     ping_ms < PING_MIN_MS || ping_ms > PING_MAX_MS)) {
		r = QS_EINVAL;
	} else {
		s->watched = true;
		if (s->info.state != SVC_ENDED)
			s->info.state = SVC_RUNNING;
		if (queue) {
			strcpy(s->info.queue, queue);
			s->info.ping_ms = ping_ms;
			if (!qs_thread_create(keepalive, s)) {
				printf("[init] %s: cannot start its "
				       "keep-alive\n", s->info.name);
				r = QS_ENOMEM;
			}
		}
	}
	qs_mutex_unlock(&lock);
	return r;
}

int
svc_essential(void)
{
	qs_mutex_lock(&lock);
	svc_t *s = &svcs[nsvcs - 1];
	int r = s->watched ? QS_EINVAL : 0; /* stopped, not started again */
	if (!r) {
		s->essential = true;
		if (s->info.state == SVC_UNWATCHED)
			s->info.state = SVC_ESSENTIAL;
	}
	qs_mutex_unlock(&lock);
	return r;
}

/* ---- queue "init" ------------------------------------------------------------ */

/* With the lock: the watched or essential program called name. */
static svc_t *
find(const char *name)
{
	for (int i = 0; i < nsvcs; i++)
		if ((svcs[i].watched || svcs[i].essential) &&
		    strcmp(svcs[i].info.name, name) == 0)
			return &svcs[i];
	return NULL;
}

static int32_t
decode_name(const qs_msg_t *req, void *args)
{
	const svc_name_t *n = (const void *)req->data;
	if (!memchr(n->name, '\0', sizeof(n->name)) || !n->name[0])
		return QS_EINVAL;
	memcpy(args, n, sizeof(*n));
	return 0;
}

static int32_t
op_list(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	static svc_list_t out; /* under the table's lock */
	memset(&out, 0, sizeof(out));
	out.n = (uint32_t)nsvcs;
	for (int i = 0; i < nsvcs; i++)
		out.svc[i] = svcs[i].info;
	qs_msg_put(reply, &out, sizeof(out));
	return 0;
}

static int32_t
op_kill(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	svc_t *s = find(((const svc_name_t *)args)->name);
	if (!s)
		return QS_ENOENT;
	if ((s->info.state != SVC_RUNNING && s->info.state != SVC_ESSENTIAL) ||
	    !s->info.pid)
		return QS_EAGAIN;
	printf("[init] %s (pid %d) killed on request of pid %d\n",
	       s->info.name, s->info.pid, req->hdr.src_pid);
	return qs_kill(s->info.pid);
}

static int32_t
op_hang(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	svc_t *s = find(((const svc_name_t *)args)->name);
	if (!s)
		return QS_ENOENT;
	if (!s->info.queue[0])
		return QS_EINVAL; /* nothing would notice */
	int qid = s->info.state == SVC_RUNNING ? served_by(s, s->info.pid, NULL)
					       : QS_EAGAIN;
	if (qid < 0 || s->hang_rid > 0)
		return QS_EAGAIN; /* not serving now, or already told */
	static qs_msg_t m;
	qs_msg_init(&m, QS_OP_HANG);
	int rid = qs_send(qid, &m);
	if (rid < 0)
		return rid;
	s->hang_rid = rid;
	printf("[init] %s (pid %d) told to hang, on request of pid %d\n",
	       s->info.name, s->info.pid, req->hdr.src_pid);
	return 0;
}

#define WHO_SVC (QS_WHO_LOCAL | QS_WHO_RIGHT(QS_RIGHT_SVC))
static const qs_op_t ops[] = {
	[SVC_OP_LIST] = { "list", 0, 0, 0, NULL, op_list, 0 },
	[SVC_OP_KILL] = { "kill", QS_LEN(svc_name_t), 0, decode_name, op_kill,
			  WHO_SVC },
	[SVC_OP_HANG] = { "hang", QS_LEN(svc_name_t), 0, decode_name, op_hang,
			  WHO_SVC },
};
static qs_server_t server = QS_SERVER_LOCKED("init", ops, NULL, &lock);

static void *
serve(void *arg)
{
	qs_serve_table((int)(uintptr_t)arg, &server, 1);
	printf("[init] queue %s is gone\n", SVC_QUEUE);
	return NULL;
}

void
svc_run(void)
{
	qs_node_info_t ni;
	qs_node_info(&ni);
	self_node = ni.node_id;
	int qid = qs_sq_create(SVC_QUEUE, 0);
	if (qid < 0)
		printf("[init] cannot create queue %s: %s\n", SVC_QUEUE,
		       qs_strerror(qid));
	else if (!qs_thread_create(serve, (void *)(uintptr_t)qid))
		printf("[init] cannot serve queue %s\n", SVC_QUEUE);
	if (!qs_thread_create(restarter, NULL))
		printf("[init] cannot start the restarter: services that die "
		       "stay down\n");
}
