/*
 * The node's shell on the serial console. It reaps the programs it started
 * before each prompt and remembers how they ended, so that `wait` works
 * whether or not the program has already ended.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "parse.h"
#include "fscmd.h"
#include "netcmd.h"
#include "crumbs.h"
#include "txcmd.h"
#include "svccmd.h"

#define MAX_ARGS 16
#define MAX_PROCS 64
#define ENDED_MAX 32
#define WAIT_POLL_MS 100 /* how often `wait` looks for the child's end */

typedef struct {
	const char *name;
	const char *usage;
	const char *help;
	void (*fn)(int argc, char **argv);
} command_t;

static struct {
	int pid, status;
} ended[ENDED_MAX];
static int ended_next;
static uint32_t node_id;

static void
remember(int pid, int status)
{
	ended[ended_next].pid = pid;
	ended[ended_next].status = status;
	ended_next = (ended_next + 1) % ENDED_MAX;
}

static void
reap(void)
{
	int pid, status;
	while ((pid = qs_waitpid(-1, &status, QS_WAIT_NOHANG)) > 0)
		remember(pid, status);
}

static void
print_status(int pid, int status)
{
	if (status & QS_STATUS_KILLED)
		printf("pid %d was killed\n", pid);
	else if (status & QS_STATUS_FAULT)
		printf("pid %d died of a fault\n", pid);
	else
		printf("pid %d exited with status %d\n", pid, status);
}

static bool
parse_pid(const char *cmd, const char *s, int *pid)
{
	long v;
	if (qs_parse_int(s, &v) < 0 || v <= 0 || v > 0x7FFFFFFF) {
		printf("%s: bad pid: %s\n", cmd, s);
		return false;
	}
	*pid = (int)v;
	return true;
}

static void
cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	printf("\n");
}

static void
cmd_ps(int argc, char **argv)
{
	static const char *const states[] = { "?", "running", "suspended", "zombie" };
	static qs_proc_info_t procs[MAX_PROCS];
	(void)argc, (void)argv;
	int n = qs_proc_list(procs, MAX_PROCS);
	if (n < 0) {
		printf("ps: %s\n", qs_strerror(n));
		return;
	}
	printf("  PID PARENT NAME             STATE     THREADS PAGES  TICKS\n");
	for (int i = 0; i < n; i++) {
		qs_proc_info_t *p = &procs[i];
		printf("%5d %6d %-16s %-9s %7d %5d %6u\n", p->pid, p->parent,
		       p->name, states[p->state <= 3 ? p->state : 0], p->threads,
		       p->pages, p->ticks);
	}
}

static void
cmd_sq(int argc, char **argv)
{
	static qs_sq_info_t qs[64];
	(void)argc, (void)argv;
	int n = qs_sq_list(qs, 64);
	if (n < 0) {
		printf("sq: %s\n", qs_strerror(n));
		return;
	}
	printf("  QID NAME             NODE OWNER IDLE BUSY PENDING DEPTH "
	       "COMPLETED\n");
	for (int i = 0; i < n; i++)
		printf("%5d %-16s %4u %5d %4u %4u %7u %5u %9u\n", qs[i].qid,
		       qs[i].name, qs[i].node, qs[i].owner, qs[i].idle,
		       qs[i].busy, qs[i].pending, qs[i].depth, qs[i].completed);
}

/* Asks the window manager; the answer is in `reply`. */
static int
wm_ask(uint32_t opcode, qs_msg_t *reply)
{
	static qs_msg_t req;
	int qid = qs_sq_lookup(WM_QUEUE);
	if (qid < 0) {
		printf("win: no window manager (queue %s: %s)\n", WM_QUEUE,
		       qs_strerror(qid));
		return qid;
	}
	qs_msg_init(&req, opcode);
	int r = qs_call(qid, &req, reply, sizeof(*reply));
	if (r < 0)
		printf("win: %s\n", qs_strerror(r));
	return r;
}

static void
win_stats(void)
{
	static qs_msg_t reply;
	if (wm_ask(WM_OP_STATS, &reply) < 0)
		return;
	const wm_stats_t *s = QS_MSG_AS(&reply, wm_stats_t);
	if (!s) {
		printf("win: short answer from the window manager\n");
		return;
	}
	printf("wm: windows %u crumbs %u created %u closed %u by-tx %u "
	       "screen %ux%ux%u\n", s->windows, s->crumbs, s->created,
	       s->closed_by_client, s->closed_by_tx, s->width, s->height, s->bpp);
	printf("wm: bad-requests %u limited %u\n", s->bad, s->limited);
}

static void
cmd_win(int argc, char **argv)
{
	static qs_msg_t reply;
	if (argc == 2 && strcmp(argv[1], "stats") == 0) {
		win_stats();
		return;
	}
	if (argc > 1) {
		printf("usage: win [stats]\n");
		return;
	}
	if (wm_ask(WM_OP_LIST, &reply) < 0)
		return;
	const wm_info_t *w = (const wm_info_t *)reply.data;
	printf("%5s %-16s %5s %4s %4s %4s %4s %s\n", "ID", "TX", "PID", "X",
	       "Y", "W", "H", "TITLE");
	for (uint32_t i = 0; i < reply.hdr.len / sizeof(*w); i++) {
		char tx[QS_TX_TEXT];
		printf("%5d %-16s %5d %4d %4d %4d %4d %.*s\n", w[i].id,
		       qs_tx_format(w[i].tx, tx), w[i].pid, w[i].x, w[i].y,
		       w[i].w, w[i].h, WM_TITLE_MAX - 1, w[i].title);
	}
}

/* run [-r RIGHT,...] PROG [ARGS...]: the rights are some of the shell's own. */
static void
cmd_run(int argc, char **argv)
{
	uint32_t rights = 0;
	if (strcmp(argv[1], "-r") == 0) {
		if (argc < 4 || qs_right_parse(argv[2], &rights) < 0) {
			printf("run: usage: run [-r RIGHT,...] PROG [ARGS...]\n");
			return;
		}
		argv += 2;
	}
	int pid = qs_spawn_rights(argv[1], (const char *const *)argv + 2, 0,
				  rights);
	if (pid == QS_ENOENT)
		printf("run: no such program: %s\n", argv[1]);
	else if (pid < 0)
		printf("run: cannot start %s: %s\n", argv[1], qs_strerror(pid));
	else
		printf("pid %d\n", pid);
	(void)argc;
}

static void
cmd_kill(int argc, char **argv)
{
	int pid;
	(void)argc;
	if (!parse_pid("kill", argv[1], &pid))
		return;
	int r = qs_kill(pid);
	if (r == QS_ENOENT)
		printf("kill: no such process: %d\n", pid);
	else if (r < 0)
		printf("kill: %d: %s\n", pid, qs_strerror(r));
	else
		printf("killed %d\n", pid);
}

static void
cmd_wait(int argc, char **argv)
{
	int pid, status;
	(void)argc;
	if (!parse_pid("wait", argv[1], &pid))
		return;
	for (int i = 0; i < ENDED_MAX; i++) {
		if (ended[i].pid == pid) {
			print_status(pid, ended[i].status);
			ended[i].pid = 0;
			return;
		}
	}
	/* Ctrl-C gives the shell back; other keys typed meanwhile are dropped. */
	for (;;) {
		int r = qs_waitpid(pid, &status, QS_WAIT_NOHANG);
		if (r < 0) {
			printf("wait: no such child: %d\n", pid);
			return;
		}
		if (r == pid) {
			print_status(pid, status);
			return;
		}
		char c;
		if (qs_cons_read(&c, 1, WAIT_POLL_MS) == 1 && c == 0x03) {
			printf("^C\nwait: interrupted; pid %d still running\n", pid);
			return;
		}
	}
}

static void
cmd_mem(int argc, char **argv)
{
	qs_mem_info_t m;
	(void)argc, (void)argv;
	qs_mem_info(&m);
	printf("pages: total %u, free %u, used %u\n", m.total_pages,
	       m.free_pages, m.total_pages - m.free_pages);
	printf("kernel heap: %u bytes\n", m.heap_bytes);
	printf("refused: %u calls (a right or a limit)\n", m.refused);
}

static void
cmd_limits(int argc, char **argv)
{
	int pid = 0;
	qs_limits_t l;
	if (argc > 1 && !parse_pid("limits", argv[1], &pid))
		return;
	int r = qs_limits(pid, &l);
	if (r < 0) {
		printf("limits: %s\n", qs_strerror(r));
		return;
	}
	printf("rights:");
	for (int i = 0; qs_right_name(i); i++)
		if (l.rights & (1u << i))
			printf(" %s", qs_right_name(i));
	printf("%s\n", l.rights ? "" : " none");
	printf("job      %u (its limits and what it holds)\n", l.job);
	for (int i = 0; i < QS_LIMIT_COUNT; i++)
		printf("%-8s %u of %u\n", qs_limit_name(i), l.used[i], l.max[i]);
	printf("refused  %u\n", l.refused);
}

static void
cmd_uptime(int argc, char **argv)
{
	uint32_t ms = qs_uptime_ms();
	(void)argc, (void)argv;
	printf("up %u.%03u s\n", ms / 1000, ms % 1000);
}

static void
cmd_halt(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("halting\n");
	printf("halt: %s\n", qs_strerror(qs_halt()));
}

static void cmd_help(int argc, char **argv);

static const command_t commands[] = {
	{ "echo", "[ARGS...]", "print the arguments", cmd_echo },
	{ "ps", "", "list processes: pid, parent, name, state, threads, pages, ticks", cmd_ps },
	{ "sq", "", "list service queues: id, name, owner, offers (idle, busy), pending, completed", cmd_sq },
	{ "tx", "[stats|abort txid|outcome txid]", "list transactions: id, owner, coordinator, state, superior, subordinates, participants; or the TM's counters; abort one; or say how one ended", cmd_tx },
	{ "log", "[crash flush before|torn|after]", "the node log manager's counters: size, used, live records, appends, forces (group commit: forced per force; lazy: forces that started no flush, lazy-flushes: flushes only they waited for; group: forces that waited for others, group-flushes: flushes that waited out their time), releases, records carried, refused; or (admin, for the crash tests) stop its writes at a flush from now", cmd_log },
	{ "win", "[stats]", "list windows: id, transaction, pid, x y w h, title; or the window manager's counters", cmd_win },
	{ "ls", "[PATH]", "list a directory: type, size, name", cmd_ls },
	{ "cat", "FILE", "print a file", cmd_cat },
	{ "write", "FILE [TEXT...]", "replace a file's contents with the text and a newline, in a transaction of its own", cmd_write },
	{ "rm", "PATH", "remove a file or an empty directory", cmd_rm },
	{ "mkdir", "PATH", "make a directory", cmd_mkdir },
	{ "df", "", "file system space, open handles, locks, and the RVM log", cmd_df },
	{ "nodes", "", "list the nodes the communication manager hears: state (up, suspect, down), incarnation", cmd_nodes },
	{ "crumbs", "", "what transactions left on this node: TM records, file server handles, transactions, locks, log windows, windows, CM requests and marks, and each server's heap", cmd_crumbs },
	{ "net", "", "the communication manager's counters for remote requests: sent, received, retransmitted, duplicates, stale, bad, in flight", cmd_net },
	{ "ping", "NODE [COUNT]", "send ICMP echoes to a node through the CM's lwIP (10.0.0.NODE+1)", cmd_ping },
	{ "run", "PROG [ARGS...]", "start a program and print its pid (run -r RIGHT,... PROG passes it some of the shell's rights)", cmd_run },
	{ "kill", "PID", "kill a process", cmd_kill },
	{ "svc", "[kill name|hang name]", "init's programs and services: state, pid, restarts, hangs found, keep-alive, how each last ended; svc kill NAME or svc hang NAME kills a service or makes it stop answering, to watch init bring it back", cmd_svc },
	{ "wait", "PID", "wait for a program started here to end (Ctrl-C stops waiting)", cmd_wait },
	{ "mem", "", "show free and used pages, and calls refused", cmd_mem },
	{ "limits", "[PID]", "a process's rights, and its limits: used of allowed", cmd_limits },
	{ "uptime", "", "time since boot", cmd_uptime },
	{ "halt", "", "power the node off", cmd_halt },
	{ "help", "", "list the commands", cmd_help },
};

static int
min_args(const command_t *c)
{
	int n = 1;
	for (const char *u = c->usage; *u; u++)
		if (*u >= 'A' && *u <= 'Z' && (u == c->usage || u[-1] == ' '))
			n++;
	return n;
}

static void
cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("%s - %s\n", commands[i].name, commands[i].help);
}

static void
execute(char *line)
{
	char *argv[MAX_ARGS + 1];
	int argc = sh_parse_line(line, argv, MAX_ARGS);

	if (argc == SH_PARSE_EQUOTE) {
		printf("error: unterminated quote\n");
		return;
	}
	if (argc == SH_PARSE_ETOOMANY) {
		printf("error: more than %d arguments\n", MAX_ARGS);
		return;
	}
	if (argc == 0)
		return;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const command_t *c = &commands[i];
		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (argc < min_args(c) || (c->usage[0] == 0 && argc > 1) ||
		    (strcmp(c->usage, "PID") == 0 && argc > 2))
			printf("usage: %s %s\n", c->name, c->usage);
		else
			c->fn(argc, argv);
		return;
	}
	printf("%s: unknown command (try help)\n", argv[0]);
}

static void
prompt(void)
{
	printf("qs%u> ", node_id);
}

int
main(void)
{
	qs_node_info_t info;
	sh_line_t ed;
	char buf[64];

	qs_set_priority(0, QS_PRIO_DEFAULT + 2);
	qs_node_info(&info);
	node_id = info.node_id;
	sh_line_reset(&ed);
	printf("Quicksilver shell on node %u; type help\n", node_id);
	prompt();
	for (;;) {
		int n = qs_cons_read(buf, sizeof(buf), -1);
		for (int i = 0; i < n; i++) {
			switch (sh_line_edit(&ed, (unsigned char)buf[i])) {
			case SH_EDIT_NONE:
				putchar(buf[i]);
				break;
			case SH_EDIT_ERASE:
				printf("\b \b");
				break;
			case SH_EDIT_KILL:
				for (int k = 0; k < ed.killed; k++)
					printf("\b \b");
				break;
			case SH_EDIT_CANCEL:
				printf("^C\n");
				reap();
				prompt();
				break;
			case SH_EDIT_DONE:
				printf("\n");
				reap(); /* so that ps shows no program already ended */
				execute(ed.buf);
				sh_line_reset(&ed);
				reap();
				prompt();
				break;
			}
		}
	}
}
