/*
 * The permission matrix (docs/security.md): every privileged syscall and
 * every privileged server operation, tried by a program without rights,
 * gets QS_EPERM and is counted; the same from a program holding the right
 * succeeds.
 *
 *   authtest none PEER     run with no rights (`run authtest none PEER`)
 *   authtest rights PEER   run with prio,kill,raw-net,admin (`run -r ...`)
 *   authtest orphan        start a spin and end (for the job kill rule)
 *
 * PEER is the pid of a process that is not authtest's descendant nor a
 * system server (the test starts `spin` from the shell), for the kill
 * rules. Halting is left to test_halt.py (it would end the run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/counter.h>
#include <qs/disk.h>
#include <qs/log.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/svc.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include <qs/tm.h>
#include <qs/tx.h>
#include "check.h"

#define CHECK_QUEUE "authtest.counter"

static qs_msg_t req, reply;
static uint8_t stack[4096] __attribute__((aligned(16)));

static void
thread_entry(void)
{
	qs_syscall(SYS_THREAD_EXIT, 0, 0, 0, 0, 0);
}

static int
owner_of(const char *name)
{
	qs_sq_info_t q;
	return qs_sq_find(name, &q) > 0 ? q.owner : -1;
}

static int
call(const char *queue, uint32_t op, const void *data, uint32_t len)
{
	int qid = qs_sq_lookup(queue);
	if (qid < 0)
		return qid;
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qid, &req, &reply, sizeof(reply));
}

static uint32_t
refused_here(void)
{
	qs_limits_t l;
	qs_limits(0, &l);
	return l.refused;
}

/* A child of ours that we may always kill, whatever our rights. */
static int
own_child(void)
{
	const char *none[] = { NULL };
	return qs_spawn("spin", none, 0);
}

/*
 * `authtest orphan` starts a spin and ends, so the spin goes to init. It is
 * still in our job (the job of the program we are): we may kill it.
 */
static int
orphan_killed(void)
{
	const char *args[] = { "orphan", NULL };
	static qs_proc_info_t ps[256];
	qs_limits_t mine, its;
	int child = qs_spawn("authtest", args, 0), status, killed = 0;
	if (child < 0 || qs_waitpid(child, &status, 0) != child || status != 0)
		return 0;
	qs_limits(0, &mine);
	int n = qs_proc_list(ps, 256);
	for (int i = 0; i < n; i++)
		if (ps[i].parent == 1 && strcmp(ps[i].name, "spin") == 0 &&
		    qs_limits(ps[i].pid, &its) == 0 && its.job == mine.job)
			killed += qs_kill(ps[i].pid) == 0;
	return killed == 1;
}

/* Never runs: the offer is refused. */
static void
idle_offer(void)
{
	qs_exit(3);
}

/* Kernel checks: the results without rights (priv 0) or with them. */
static void
kernel_matrix(int priv, int peer)
{
	uint32_t before = refused_here();
	int want = priv ? 0 : QS_EPERM, n = 0;
	int tm = owner_of("tm");

	int r = qs_set_priority(0, QS_PRIO_SERVER + 1);
	n += r == QS_EPERM;
	check(r == want, "a priority above the servers' needs the right prio");
	qs_set_priority(0, QS_PRIO_DEFAULT);
	r = qs_syscall(SYS_THREAD_CREATE, (uint32_t)thread_entry, 0,
		       (uint32_t)(stack + sizeof(stack)), QS_PRIO_MAX, 0);
	n += r == QS_EPERM;
	check(priv ? r > 0 : r == QS_EPERM,
	      "a thread above the servers' priority needs the right prio");

	r = qs_kill(peer);
	n += r == QS_EPERM;
	check(r == want, "killing a process one did not start needs the right kill");
	r = qs_kill(tm);
	n += r == QS_EPERM;
	check(tm > 0 && r == QS_EPERM,
	      "the right kill does not reach a system server (the TM)");
	r = qs_kill(1);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "nobody kills init");
	int child = own_child(), status;
	check(child > 0 && qs_kill(child) == 0 &&
		      qs_waitpid(child, &status, 0) == child,
	      "a process kills its own child without a right");

	check(orphan_killed(), "a process kills its program's orphans (its "
			       "job's) without a right");

	r = qs_grant(qs_getpid(), QS_GRANT_RIGHTS, QS_RIGHTS_ALL, 0);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "only init grants (rights, names, devices)");
	const char *none[] = { NULL };
	r = qs_spawn_rights("hello", none, 0, QS_RIGHT_HALT);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "a program passes on only rights it holds");
	uint32_t v;
	r = qs_syscall(SYS_PCI_READ, 0x8086100e, 0, (uint32_t)&v, 0, 0);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "a device's PCI configuration is its driver's alone");
	char key;
	r = qs_syscall(SYS_CONS_READ, (uint32_t)&key, 1, 0, 0, 0);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "the user's keystrokes are the shell's: reading the "
			     "console needs the right console");
	r = qs_halt(); /* neither run holds halt: it would end the test */
	n += r == QS_EPERM;
	check(r == QS_EPERM, "halting needs the right halt");

	r = qs_sq_create("tm", 0);
	n += r == QS_EPERM;
	check(r == QS_EPERM, "a reserved name (tm) is its server's alone");
	r = qs_sq_create(QS_DEATH_QUEUE, 0);
	n += r == QS_EPERM;
	int r2 = qs_sq_create("kernel.mine", 0);
	n += r2 == QS_EPERM;
	check(r == QS_EPERM && r2 == QS_EPERM,
	      "kernel.* names are reserved (no program becomes the TM)");
	check(qs_sq_create("tm@1", 0) == QS_EINVAL,
	      "NAME@N cannot be created locally");

	int echo = qs_sq_lookup("echo");
	r = qs_syscall(SYS_SQ_OFFER, (uint32_t)echo, (uint32_t)idle_offer,
		       (uint32_t)(stack + sizeof(stack)), (uint32_t)&req,
		       sizeof(req));
	n += r == QS_EPERM;
	check(echo > 0 && r == QS_EPERM,
	      "only a queue's owner (and whom it admits) offers on it");
	r = qs_sq_admit(echo, qs_getpid());
	n += r == QS_EPERM;
	check(r == QS_EPERM, "only a queue's owner admits");

	uint32_t after = refused_here();
	check(after - before == (uint32_t)n,
	      "every refusal is counted with its process");
}

/* Servers' checks, through their dispatch tables. */
static void
server_matrix(int priv)
{
	int want = priv ? 0 : QS_EPERM;
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0,
			      1, 0x88, 0xb5 };
	int r = call(CM_QUEUE, CM_OP_RAW_SEND, frame, sizeof(frame));
	check(r == want, "the CM's raw frames need the right raw-net");
	r = call(CM_QUEUE, CM_OP_RAW_RECV, NULL, 0);
	check(priv ? r != QS_EPERM : r == QS_EPERM,
	      "reading raw frames needs the right raw-net");
	cm_udp_echo_t e = { .node = 99, .count = 1 };
	r = call(CM_QUEUE, CM_OP_UDP_ECHO, &e, sizeof(e));
	/* node 99 does not answer: with the right, the echo is tried */
	check(priv ? r == QS_EUNREACH || r == QS_EINVAL : r == QS_EPERM,
	      "the CM's UDP echo (it holds the CM) needs the right admin");

	const char *args[] = { "-q", CHECK_QUEUE, NULL };
	int server = qs_spawn("counterd", args, 0);
	int qid = -1;
	for (int i = 0; server > 0 && i < 1000 && qid < 0; i++) {
		qs_sq_info_t q;
		if (qs_sq_find(CHECK_QUEUE, &q) > 0 && q.idle + q.busy > 0)
			qid = q.qid;
		else
			qs_sleep(10); /* until it offers: nothing to wait on */
	}
	r = call(CHECK_QUEUE, COUNTER_OP_RESET, NULL, 0);
	check(qid > 0 && r == want, "resetting a counter needs the right admin");
	if (server > 0) {
		qs_kill(server);
		qs_waitpid(server, NULL, 0);
	}

	/* what only the kernel, the CM or the TM may say, nobody else */
	qs_death_notice_t fake = { .pid = qs_getpid() };
	check(call(QS_DEATH_QUEUE, QS_NOTICE_DEATH, &fake, sizeof(fake)) ==
		      QS_EPERM,
	      "a death notice comes from the kernel alone");
	uint8_t edge[64] = { 0 };
	check(call(TM_NET_QUEUE, TM_OP_NODE, edge, sizeof(edge)) == QS_EPERM,
	      "the TM's network notices come from the CM alone");
	uint64_t tx = qs_tx_get();
	check(call(CM_QUEUE, CM_OP_TX_MARK, &tx, sizeof(tx)) == QS_EPERM,
	      "the CM's transaction marks come from the TM alone");

	disk_region_t nodelog, guess = { 0, 1 }, spare;
	static uint8_t sector[DISK_SECTOR];
	check(disk_open("log.node", &nodelog) == QS_EPERM &&
		      disk_read(&guess, 0, sector, 1) == QS_EPERM,
	      "the node log's region is the log manager's alone, with or without rights");
	r = disk_open("spare", &spare);
	check(r == want, "a +admin region needs the right admin");

	/* the node log: the TM's records are the TM's (owner 0, as the TM
	   opened first), with or without rights */
	uint32_t h;
	log_rec_t rec;
	uint8_t data[16];
	check(qs_log_open("tm", &h, NULL) == QS_EPERM &&
		      qs_log_open("authtest", &h, NULL) == QS_EPERM,
	      "a log owner is the process its name is reserved for");
	check(qs_log_append(0, 1, 7, data, sizeof(data), LOG_F_FORCE, NULL) ==
			      QS_EPERM &&
		      qs_log_read(0, 0, &rec, data, sizeof(data)) == QS_EPERM &&
		      qs_log_release(0, 0, ~0ull) == QS_EPERM &&
		      qs_log_force(0, 0, 0) == QS_EPERM,
	      "another owner's records are not to append, read or release");
	/* a how that is no crash point: refused before it is read, without
	   the right; read and refused as malformed with it */
	r = qs_log_crash_at(1, 0);
	check(r == (want == QS_EPERM ? QS_EPERM : QS_EINVAL),
	      "the log's crash points are for admin");

	/* init's services: anyone may list them; killing or hanging one takes
	   the right svc, which neither mode passes */
	static svc_list_t services;
	check(qs_svc_list(&services) >= 0 && services.n > 0 &&
		      qs_svc_kill("fs") == QS_EPERM &&
		      qs_svc_hang("fs") == QS_EPERM,
	      "init's services: listed for anyone, killed or hung with svc only");
	/* the opcodes every table answers itself: a keep-alive for anyone
	   here (through the server's lock, for the log), a hang from init
	   alone */
	check(call("fs", QS_OP_PING, NULL, 0) == 0 &&
		      call(LOG_QUEUE, QS_OP_PING, NULL, 0) == 0 &&
		      call("fs", QS_OP_PING, "x", 1) == QS_EINVAL &&
		      call("fs", QS_OP_HANG, NULL, 0) == QS_EPERM &&
		      call(LOG_QUEUE, QS_OP_HANG, NULL, 0) == QS_EPERM &&
		      call("fs", QS_OP_PING, NULL, 0) == 0,
	      "a keep-alive answered; a hang refused to all but init");
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "orphan") == 0)
		return own_child() > 0 ? 0 : 1;
	if (argc != 3 || (strcmp(argv[1], "none") && strcmp(argv[1], "rights"))) {
		printf("usage: authtest none|rights PEER | orphan\n");
		return 2;
	}
	int priv = strcmp(argv[1], "rights") == 0;
	qs_limits_t l;
	qs_limits(0, &l);
	uint32_t want = priv ? QS_RIGHT_PRIO | QS_RIGHT_KILL | QS_RIGHT_RAW_NET |
				       QS_RIGHT_ADMIN
			     : 0;
	check(l.rights == want, "the process holds what it was given, no more");
	kernel_matrix(priv, atoi(argv[2]));
	server_matrix(priv);
	return check_summary("authtest");
}
