/*
 * In-guest kernel tests: processes, memory, threads and scheduling, seen
 * from user space. Helpers run as child processes of this same program
 * ("ktest child ...") so that a failing one cannot take the tests down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "check.h"

static volatile uint32_t flag;
static volatile int shared_global = 42;


/* Spawns `prog args...` and waits for it; returns its status or an error. */
static int
run(const char *prog, const char *const *args)
{
	int status, pid = qs_spawn(prog, args, 0);
	if (pid < 0)
		return pid;
	return qs_waitpid(pid, &status, 0) == pid ? status : -1000;
}

static uint32_t
free_pages(void)
{
	qs_mem_info_t m;
	qs_mem_info(&m);
	return m.free_pages;
}

static int
proc_info(int pid, qs_proc_info_t *out)
{
	static qs_proc_info_t procs[64];
	int n = qs_proc_list(procs, 64);
	for (int i = 0; i < n; i++)
		if (procs[i].pid == pid) {
			*out = procs[i];
			return 0;
		}
	return -1;
}

static void *
sleep_long(void *arg)
{
	qs_sleep(100000);
	return arg;
}

static int
child(int argc, char **argv)
{
	if (strcmp(argv[2], "exit") == 0)
		return atoi(argv[3]);
	if (strcmp(argv[2], "args") == 0)
		return argc;
	if (strcmp(argv[2], "poke") == 0) {
		shared_global = 7; /* must not be seen by the parent */
		return shared_global;
	}
	if (strcmp(argv[2], "orphan") == 0) {
		const char *none[] = { NULL };
		return qs_spawn("spin", none, 0); /* leaves a spinning orphan */
	}
	if (strcmp(argv[2], "sorphan") == 0) {
		const char *none[] = { NULL };
		return qs_spawn("hello", none, QS_SPAWN_SUSPENDED); /* never resumed */
	}
	if (strcmp(argv[2], "blocked") == 0) {
		static volatile uint32_t never;
		for (int i = 0; i < 3; i++)
			qs_thread_create(sleep_long, NULL);
		qs_futex_wait(&never, 0, -1);
	}
	return 99;
}

static void
test_processes(void)
{
	const char *none[] = { NULL };
	const char *exit7[] = { "child", "exit", "7", NULL };
	const char *args[] = { "child", "args", "x", "y", NULL };

	check(run("hello", none) == 0, "spawn and wait: exit status 0");
	check(run("ktest", exit7) == 7, "exit status reaches the parent");
	check(run("ktest", args) == 5, "arguments reach the child");
	check(qs_spawn("nosuch", none, 0) == QS_ENOENT, "spawn unknown program");
	check(qs_waitpid(-1, NULL, QS_WAIT_NOHANG) == QS_ECHILD, "wait with no children");

	int pid = qs_spawn("spin", none, 0), status = 0;
	check(qs_waitpid(pid, &status, QS_WAIT_NOHANG) == 0, "wait nohang on a running child");
	check(qs_kill(pid) == 0 && qs_waitpid(pid, &status, 0) == pid &&
		      status == QS_STATUS_KILLED, "kill: status says killed");
	check(qs_kill(pid) == QS_ENOENT, "kill a reaped process");

	pid = qs_spawn("hello", none, QS_SPAWN_SUSPENDED);
	qs_proc_info_t info;
	check(proc_info(pid, &info) == 0 && info.state == QS_PROC_SUSPENDED,
	      "spawn suspended");
	check(qs_resume(pid) == 0 && qs_waitpid(pid, &status, 0) == pid && status == 0,
	      "resume runs it");

	const char *orphan[] = { "child", "orphan", NULL };
	int spin = run("ktest", orphan);
	check(spin > 0 && proc_info(spin, &info) == 0 && info.parent == 1,
	      "an orphan goes to init");
	/* not ours any more: killing it takes the right kill (run -r kill) */
	check(spin > 0 && qs_kill(spin) == 0, "the right kill reaches an orphan");

	const char *sorphan[] = { "child", "sorphan", NULL };
	pid = run("ktest", sorphan);
	check(pid > 0 && (proc_info(pid, &info) < 0 || info.state == QS_PROC_ZOMBIE),
	      "a suspended orphan dies with its parent");

	const char *blocked[] = { "child", "blocked", NULL };
	pid = qs_spawn("ktest", blocked, 0);
	for (int i = 0; i < 100 && proc_info(pid, &info) == 0 && info.threads < 4; i++)
		qs_yield();
	check(info.threads == 4 && qs_kill(pid) == 0 &&
		      qs_waitpid(pid, &status, 0) == pid, "kill a process with blocked threads");
}

static void
test_faults(void)
{
	static const struct {
		const char *kind;
		int trap;
	} faults[] = { { "pf", 14 }, { "gp", 13 }, { "ud", 6 }, { "de", 0 },
		       { "kread", 14 }, { "kwrite", 14 }, { "io", 13 } };
	char name[48];
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		const char *args[] = { faults[i].kind, NULL };
		snprintf(name, sizeof(name), "crash %s is killed by trap %d",
			 faults[i].kind, faults[i].trap);
		check(run("crash", args) == (QS_STATUS_FAULT | faults[i].trap), name);
	}
}

static void
test_memory(void)
{
	const char *none[] = { NULL };
	const char *poke[] = { "child", "poke", NULL };

	run("hello", none); /* warm up: the first spawn may grow kernel tables */
	uint32_t before = free_pages();
	run("hello", none);
	check(free_pages() == before, "a finished process returns every page");
	check(run("ktest", poke) == 7 && shared_global == 42,
	      "a child's writes stay in its address space");

	qs_proc_info_t a, b;
	proc_info(qs_getpid(), &a);
	char *big = malloc(1 << 20);
	memset(big, 1, 1 << 20);
	proc_info(qs_getpid(), &b);
	check(big && b.pages >= a.pages + 256, "malloc grows the heap with pages");
	free(big);
}

static void *
set_flag(void *arg)
{
	flag = (uint32_t)(uintptr_t)arg;
	return NULL;
}

static void
test_scheduling(void)
{
	uint32_t t0 = qs_uptime_ms();
	qs_sleep(100);
	check(qs_uptime_ms() - t0 >= 100, "sleep lasts at least its time");

	/* a higher-priority thread runs before its creator gets the CPU back */
	qs_set_priority(0, QS_PRIO_DEFAULT - 2);
	flag = 0;
	qs_thread_t *t = qs_thread_create(set_flag, (void *)1);
	check(t != NULL && flag == 1, "a higher-priority thread runs first");
	qs_set_priority(0, QS_PRIO_DEFAULT);
	qs_thread_join(t);
	flag = 0;
	t = qs_thread_create(set_flag, (void *)3);
	qs_thread_join(t);
	check(flag == 3, "join sees the thread's work");

	uint32_t before = free_pages();
	for (int i = 0; i < 50; i++)
		qs_thread_join(qs_thread_create(set_flag, (void *)2));
	check(free_pages() == before, "50 thread create/join cycles leak no pages");

	volatile uint32_t word = 5;
	check(qs_futex_wait(&word, 5, 20) == QS_ETIMEDOUT, "futex wait times out");
	check(qs_futex_wait(&word, 6, 20) == QS_EAGAIN, "futex wait on a changed value");
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "child") == 0)
		return child(argc, argv);
	test_processes();
	test_faults();
	test_memory();
	test_scheduling();
	return check_summary("ktest");
}
