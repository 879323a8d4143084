/*
 * The run: CALLS calls in slices of at most SLICE, CHILDREN children at a
 * time. Each child reports how many calls it made to the control queue, so
 * one that ends early is credited and the rest of its slice goes to a new
 * child. The parent waits for its children (a deadline only detects a hung
 * child), then checks that the free pages and the kernel heap come back to
 * where they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "../check.h"
#include "fuzz.h"
#include "health.h"

#define SLICE 2500
#define HANG_MS 120000      /* a child's deadline (it takes seconds) */
#define LEVEL_MS 60000      /* for pages and heap to come back */
#define ROOT_MAX 128

typedef struct {
	int pid;
	uint32_t seed, calls, start_ms;
	volatile uint32_t made, ended;
	int hung;
} run_t;

static run_t runs[16];

static int32_t
ctl_handler(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	const report_t *r = QS_MSG_AS(req, report_t);
	(void)reply;
	(void)ctx;
	for (int i = 0; r && i < 16; i++)
		if (runs[i].pid == (int)r->pid && r->made <= runs[i].calls) {
			runs[i].made = r->made;
			runs[i].ended |= r->ended;
		}
	return 0;
}

static void *
ctl_thread(void *arg)
{
	return (void *)(intptr_t)qs_serve((int)(intptr_t)arg, ctl_handler, NULL, 1);
}

static uint64_t pseed;

static int
spawn_child(run_t *c, uint32_t calls, int ctl)
{
	char s[16], n[16], p[16], q[16];
	const char *argv[] = { "child", s, n, p, q, trace ? "t" : NULL, NULL };
	c->seed = rnd_of(&pseed);
	c->calls = calls;
	c->made = c->ended = 0;
	c->hung = 0;
	snprintf(s, sizeof(s), "%u", c->seed);
	snprintf(n, sizeof(n), "%u", calls);
	snprintf(p, sizeof(p), "%d", qs_getpid());
	snprintf(q, sizeof(q), "%d", ctl);
	c->start_ms = qs_uptime_ms();
	c->pid = qs_spawn("fuzz", argv, 0);
	printf("fuzz: child %d: seed %u, %u calls\n", c->pid, c->seed, calls);
	return c->pid;
}

/*
 * Free pages, counting as free those of the processes outside the run (the
 * servers): a server's heap may grow with what it was asked and keep its
 * pages (a counter's ids, a table at its largest), which is no kernel leak.
 * What the servers keep for their clients is checked in health.c.
 */
static void
mem_level(qs_mem_info_t *m)
{
	static qs_proc_info_t procs[64];
	qs_mem_info(m);
	int n = qs_proc_list(procs, 64);
	for (int i = 0; i < n; i++)
		if (strcmp(procs[i].name, "fuzz") != 0)
			m->free_pages += (uint32_t)procs[i].pages;
}

/* The level before the run: the same twice in a row (the servers may still
 * be busy with what ran before, e.g. the TM with death notices). */
static void
quiet_level(qs_mem_info_t *m)
{
	qs_mem_info_t prev = { 0 };
	uint32_t t0 = qs_uptime_ms();
	for (;;) {
		mem_level(m);
		if ((m->free_pages == prev.free_pages && m->heap_bytes == prev.heap_bytes) ||
		    qs_uptime_ms() - t0 > LEVEL_MS)
			return;
		prev = *m;
		qs_sleep(20);
	}
}

/* Waits (polling, with a deadline) for pages and heap to be back where they
 * were, or better; a leak stays. */
static int
level_back(const qs_mem_info_t *m0, qs_mem_info_t *m)
{
	uint32_t t0 = qs_uptime_ms();
	do {
		mem_level(m);
		if (m->free_pages >= m0->free_pages && m->heap_bytes <= m0->heap_bytes)
			return 1;
		qs_sleep(50);
	} while (qs_uptime_ms() - t0 < LEVEL_MS);
	return 0;
}

int
parent(uint32_t seed, uint32_t calls, int par)
{
	char name[QS_NAME_MAX];
	static char root[ROOT_MAX][FS_NAME_MAX];
	qs_mem_info_t m0, m;
	srv_snap_t s0, s;
	uint32_t left = calls, total = 0, faults = 0, hung = 0, early = 0;
	uint32_t nchildren = 0, stuck = 0;
	int running = 0, status;

	pseed = seed;
	if (par < 1 || par > 16)
		par = 2;
	snprintf(name, sizeof(name), "fz%d.ctl", qs_getpid());
	int ctl = qs_sq_create(name, 64);
	qs_thread_t *t = ctl > 0 ? qs_thread_create(ctl_thread, (void *)(intptr_t)ctl) : NULL;
	if (!t) {
		check(0, "control queue");
		return check_summary("fuzz");
	}
	/* the levels are taken with the control queue's server in place */
	const qs_sq_info_t *cq = NULL;
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < LEVEL_MS; qs_sleep(1)) {
		qlist();
		if ((cq = qfind(ctl)) && cq->idle == 1)
			break;
	}
	/* each server once, as a client: what a server makes at its first
	 * transaction (its recovery thread) is not the run's */
	srv_snap(&s0);
	if (!tm_serves() || !fs_serves() || !wm_serves() || !others_serve(&s0))
		printf("fuzz: the servers did not all serve before the run\n");
	int nroot = fs_names("/", root, ROOT_MAX);
	srv_snap(&s0);
	quiet_level(&m0);
	printf("fuzz: seed %u, %u calls, %d at a time; %u free pages, heap %u\n",
	       seed, calls, par, m0.free_pages, m0.heap_bytes);
	uint32_t t0 = qs_uptime_ms();
	for (;;) {
		for (int i = 0; i < par && left && stuck < 32; i++) {
			if (runs[i].pid)
				continue;
			uint32_t n = left < SLICE ? left : SLICE;
			if (spawn_child(&runs[i], n, ctl) < 0) {
				runs[i].pid = 0;
				stuck++;
				continue;
			}
			left -= n;
			running++;
			nchildren++;
		}
		if (!running)
			break;
		int pid = qs_waitpid(-1, &status, QS_WAIT_NOHANG);
		run_t *c = NULL;
		for (int i = 0; pid > 0 && i < par; i++)
			if (runs[i].pid == pid)
				c = &runs[i];
		if (!c) {
			for (int i = 0; i < par; i++) {
				run_t *h = &runs[i];
				if (h->pid && !h->hung &&
				    qs_uptime_ms() - h->start_ms > HANG_MS) {
					printf("fuzz: child %d (seed %u) hung after %u calls\n",
					       h->pid, h->seed, h->made);
					h->hung = 1;
					hung++;
					qs_kill(h->pid);
				}
			}
			qs_sleep(10);
			continue;
		}
		if ((status & QS_STATUS_FAULT) && !c->hung) {
			printf("fuzz: child %d (seed %u) died of fault %d after %u calls\n",
			       pid, c->seed, status & 0xFF, c->made);
			faults++;
		}
		total += c->made;
		early += c->made < c->calls;
		left += c->calls - c->made;
		stuck = c->made ? 0 : stuck + 1;
		c->pid = 0;
		running--;
	}
	uint32_t dt = qs_uptime_ms() - t0;
	int crumbs = srv_crumbs_back(&s0, &s, LEVEL_MS);
	int tidy = fs_tidy(root, nroot);
	int tm_ok = tm_serves(), fs_ok = fs_serves(), wm_ok = wm_serves();
	int others_ok = others_serve(&s0);
	srv_snap(&s);
	/* as at the start: the control queue and its thread still here */
	int back = level_back(&m0, &m);
	qs_sq_destroy(ctl);
	qs_thread_join(t);
	printf("fuzz: %u calls by %u children (%u ended early) in %u ms: %u calls/s\n",
	       total, nchildren, early, dt, dt ? (uint32_t)((uint64_t)total * 1000 / dt) : 0);
	check(hung == 0, "no child hung");
	check(faults == 0, "no child died of a fault");
	check(total >= calls, "every call made");
	check(srv_alive(&s0, &s), "no server died or lost a thread");
	check(crumbs, "servers hold nothing of the run's clients");
	check(tm_ok, "tm begins and commits");
	if (tidy < 0)
		printf("fuzz: removing the run's files: %s\n", qs_strerror(tidy));
	check(fs_ok && tidy == 0, "fs writes, reads and removes files");
	check(wm_ok, "wm makes a window that goes with its transaction");
	check(others_ok, "echo, disk, cm and counter answer");
	check(srv_counted(&s0, &s), "servers counted the bad requests");
	if (!back)
		printf("fuzz: free pages %u (was %u), heap %u (was %u)\n",
		       m.free_pages, m0.free_pages, m.heap_bytes, m0.heap_bytes);
	check(m.free_pages >= m0.free_pages, "no leaked pages");
	check(m.heap_bytes <= m0.heap_bytes, "kernel heap back to its level");
	return check_summary("fuzz");
}
