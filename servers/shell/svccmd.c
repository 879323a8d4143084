/*
 * svc: the programs init started and its watch over the services among
 * them (qs/svc.h): state, pid, restarts, hangs found, how each last
 * ended. `svc kill NAME` and `svc hang NAME` (QS_RIGHT_SVC) kill a service
 * or make it stop answering, to watch init bring it back.
 */
#include <stdio.h>
#include <string.h>
#include <qs/svc.h>
#include <qs/sys.h>
#include "svccmd.h"

static const char *
state_name(uint32_t state)
{
	static const char *const names[] = { "unwatched", "running",
					     "restarting", "given-up",
					     "ended", "essential" };
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static void
list(void)
{
	static svc_list_t l;
	int r = qs_svc_list(&l);
	if (r < 0) {
		printf("svc: %s\n", qs_strerror(r));
		return;
	}
	printf("%-10s %-10s %5s %8s %5s %-16s %s\n", "NAME", "STATE", "PID",
	       "RESTARTS", "HANGS", "KEEP-ALIVE", "LAST-END");
	for (uint32_t i = 0; i < l.n; i++) {
		const svc_info_t *s = &l.svc[i];
		char ka[QS_NAME_MAX + 16] = "-";
		if (s->queue[0])
			snprintf(ka, sizeof(ka), "%s/%ums", s->queue,
				 s->ping_ms);
		printf("%-10s %-10s %5d %8u %5u %-16s %s\n", s->name,
		       state_name(s->state), s->pid, s->restarts, s->hangs, ka,
		       s->last[0] ? s->last : "-");
	}
}

void
cmd_svc(int argc, char **argv)
{
	if (argc == 1) {
		list();
		return;
	}
	int kill = strcmp(argv[1], "kill") == 0;
	if (argc != 3 || (!kill && strcmp(argv[1], "hang") != 0)) {
		printf("svc: usage: svc [kill NAME | hang NAME]\n");
		return;
	}
	int r = kill ? qs_svc_kill(argv[2]) : qs_svc_hang(argv[2]);
	if (r == QS_ENOENT)
		printf("svc: no service %s\n", argv[2]);
	else if (r == QS_EAGAIN)
		printf("svc: %s is not running now\n", argv[2]);
	else if (r < 0)
		printf("svc: %s %s: %s\n", argv[1], argv[2], qs_strerror(r));
	else
		printf("svc: %s %s\n", kill ? "killed" : "told to hang", argv[2]);
}
