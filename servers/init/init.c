/*
 * init: starts the programs its config file lists, hands out their device
 * grants, rights and names, watches the services among them (service.c:
 * restarted when they die or hang), and reaps orphans for ever.
 *
 * Config syntax (a Multiboot module; its name comes from the boot argument
 * "conf", default init.conf):
 *   start PROG [ARGS...]          start a program
 *     grant io|mmio|dma|irq BASE [LEN]   a grant for the program above
 *     grant pci VENDOR:DEVICE BAR         a device's memory BAR, wherever
 *                                         the firmware put it (hex ids)
 *     right RIGHT...                      rights for it: halt prio kill
 *                                         kill-any raw-net admin console svc
 *     name QUEUE                          a queue name only it may create
 *     limit pages|threads|queues|requests|kbytes|procs N
 *                                         raise (or lower) one of its limits
 *                                         (docs/security.md)
 *     watch [QUEUE [MS]]                  it is a service: started again
 *                                         when it ends; with QUEUE, sent a
 *                                         keep-alive there every second,
 *                                         and killed and started again if
 *                                         one gets no answer in MS (default
 *                                         3000). The shell is always watched.
 *     essential                           its death stops the node (the TM,
 *                                         the CM, the log manager: the
 *                                         node's recovery state dies with
 *                                         it); restarted, the node recovers
 *                                         from its log
 *   await QUEUE [SECONDS]         wait (default 60 s) until the program
 *                                 started just above offers QUEUE, or has
 *                                 ended: what follows needs that queue
 *   # comment
 */
#include <stdbool.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "service.h"

#define CONF_MAX 4096
#define MAX_ARGS 16

static char conf_name[QS_NAME_MAX] = "init.conf";

static int
parse_grant_kind(const char *s)
{
	static const char *const kinds[] = { "io", "mmio", "dma", "irq", "pci" };
	for (int i = 0; i < 5; i++)
		if (strcmp(s, kinds[i]) == 0)
			return i + 1; /* QS_GRANT_IO .. QS_GRANT_PCI */
	return -1;
}

/*
 * A whole decimal or 0x-hexadecimal number of up to 32 bits: device
 * addresses above 2 GiB do not fit qs_parse_int's long.
 */
static int
parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d = isdigit((unsigned char)*s) ? *s - '0'
			: isxdigit((unsigned char)*s) ? tolower((unsigned char)*s) - 'a' + 10
						       : base;
		if (d >= base || (v = v * (uint64_t)base + (uint64_t)d) > 0xFFFFFFFFu)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* "VVVV:DDDD" (hex) as vendor << 16 | device */
static int
parse_pci_id(const char *s, uint32_t *out)
{
	char num[11] = "0x";
	if (strlen(s) != 9 || s[4] != ':')
		return -1;
	memcpy(num + 2, s, 4);
	memcpy(num + 6, s + 5, 4);
	return parse_u32(num, out);
}

static void
do_grant(char **argv, int argc, int lineno)
{
	uint32_t base = 0, len = 1;
	int kind = argc >= 2 ? parse_grant_kind(argv[1]) : -1;
	int bad = kind < 0 || argc > 4;
	if (!bad && kind == QS_GRANT_PCI)
		bad = argc != 4 || parse_pci_id(argv[2], &base) < 0 ||
		      parse_u32(argv[3], &len) < 0;
	else if (!bad)
		bad = (argc >= 3 && parse_u32(argv[2], &base) < 0) ||
		      (argc == 4 && parse_u32(argv[3], &len) < 0);
	if (bad) {
		printf("[init] %s:%d: bad grant line\n", conf_name, lineno);
		return;
	}
	if (kind == QS_GRANT_DMA && argc == 3)
		len = base; /* "grant dma PAGES" */
	int r = svc_grant(kind, base, len);
	if (r < 0)
		printf("[init] %s:%d: grant failed: %s\n", conf_name, lineno,
		       qs_strerror(r));
}

/* "right R...", "name QUEUE" or "limit KIND N" for the program above. */
static void
do_authority(char **argv, int argc, int lineno)
{
	int r = QS_EINVAL, kind;
	uint32_t v;

	if (strcmp(argv[0], "right") == 0 && argc >= 2) {
		uint32_t rights = 0, bits;
		for (int i = 1; i < argc; i++) {
			if (qs_right_parse(argv[i], &bits) < 0) {
				printf("[init] %s:%d: no right %s\n", conf_name,
				       lineno, argv[i]);
				return;
			}
			rights |= bits;
		}
		r = svc_grant(QS_GRANT_RIGHTS, rights, 0);
	} else if (strcmp(argv[0], "name") == 0 && argc == 2) {
		r = svc_grant(QS_GRANT_NAME, (uint32_t)(uintptr_t)argv[1], 0);
	} else if (strcmp(argv[0], "limit") == 0 && argc == 3 &&
		   (kind = qs_limit_parse(argv[1])) >= 0 &&
		   parse_u32(argv[2], &v) == 0) {
		r = svc_grant(QS_GRANT_LIMIT, (uint32_t)kind, v);
	} else {
		printf("[init] %s:%d: bad %s line\n", conf_name, lineno, argv[0]);
		return;
	}
	if (r < 0)
		printf("[init] %s:%d: %s failed: %s\n", conf_name, lineno,
		       argv[0], qs_strerror(r));
}

/* "watch [QUEUE [MS]]" for the program above. */
static void
do_watch(char **argv, int argc, int lineno)
{
	uint32_t ms = 3000;
	if (argc > 3 || (argc == 3 && parse_u32(argv[2], &ms) < 0)) {
		printf("[init] %s:%d: bad watch line\n", conf_name, lineno);
		return;
	}
	int r = svc_watch(argc >= 2 ? argv[1] : NULL, ms);
	if (r < 0)
		printf("[init] %s:%d: watch failed: %s\n", conf_name, lineno,
		       qs_strerror(r));
}

/* Is there a queue of that name served on this node (not a proxy for one
 * elsewhere: a lookup would ask the network, and find another node's)? */
static bool
local_queue(const char *name, uint32_t node)
{
	qs_sq_info_t q;
	/* offered, not just made: a server prints its banner before it offers,
	   so nothing it says at start comes after what init starts next */
	return qs_sq_find(name, &q) > 0 && q.node == node && q.idle + q.busy > 0;
}

/* Polls for the queue: servers make theirs once they have recovered. A
 * server that cannot start (no disk, say) ends, and then nobody waits. */
static void
await_queue(int pid, const char *name, const char *secs, int lineno)
{
	long limit = 60;
	if (secs && (qs_parse_int(secs, &limit) < 0 || limit <= 0)) {
		printf("[init] %s:%d: bad wait time %s\n", conf_name, lineno, secs);
		return;
	}
	uint32_t deadline = qs_uptime_ms() + (uint32_t)limit * 1000;
	int status;
	qs_node_info_t ni;
	qs_node_info(&ni);
	while (!local_queue(name, ni.node_id)) {
		if (pid > 0 && qs_waitpid(pid, &status, QS_WAIT_NOHANG) == pid) {
			printf("[init] %s:%d: no queue %s: its server ended\n",
			       conf_name, lineno, name);
			svc_ended(pid, status, true);
			return;
		}
		if ((int32_t)(qs_uptime_ms() - deadline) >= 0) {
			printf("[init] %s:%d: no queue %s after %ld s; going on\n",
			       conf_name, lineno, name, limit);
			return;
		}
		qs_sleep(20);
	}
}

static void
run_config(char *text)
{
	char *save, *line;
	int pid = -1, lineno = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *argv[MAX_ARGS + 1], *ls;
		int argc = 0;
		lineno++;
		for (char *w = strtok_r(line, " \t\r", &ls); w && argc < MAX_ARGS;
		     w = strtok_r(NULL, " \t\r", &ls))
			argv[argc++] = w;
		argv[argc] = NULL;
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if (strcmp(argv[0], "start") == 0 && argc >= 2) {
			if (pid > 0)
				qs_resume(pid);
			pid = svc_start(argv + 1, lineno);
			if (pid > 0 && strcmp(argv[1], "shell") == 0)
				svc_watch(NULL, 0);
		} else if (strcmp(argv[0], "grant") == 0 && pid > 0) {
			do_grant(argv, argc, lineno);
		} else if ((strcmp(argv[0], "right") == 0 ||
			    strcmp(argv[0], "name") == 0 ||
			    strcmp(argv[0], "limit") == 0) && pid > 0) {
			do_authority(argv, argc, lineno);
		} else if (strcmp(argv[0], "watch") == 0 && pid > 0) {
			do_watch(argv, argc, lineno);
		} else if (strcmp(argv[0], "essential") == 0 && argc == 1 &&
			   pid > 0) {
			if (svc_essential() < 0)
				printf("[init] %s:%d: essential and watched?\n",
				       conf_name, lineno);
		} else if (strcmp(argv[0], "await") == 0 && (argc == 2 || argc == 3)) {
			if (pid > 0)
				qs_resume(pid);
			await_queue(pid, argv[1], argc == 3 ? argv[2] : NULL, lineno);
			pid = -1;
		} else {
			printf("[init] %s:%d: cannot parse '%s'\n", conf_name,
			       lineno, argv[0]);
		}
	}
	if (pid > 0)
		qs_resume(pid);
}

int
main(void)
{
	static char conf[CONF_MAX + 1];
	char name[QS_NAME_MAX];

	if (qs_boot_arg("conf", name, sizeof(name)) > 0)
		strlcpy(conf_name, name, sizeof(conf_name));
	int n = qs_module_read(conf_name, 0, conf, CONF_MAX);
	if (n < 0) {
		printf("[init] no config %s (%s); starting the shell only\n",
		       conf_name, qs_strerror(n));
		n = snprintf(conf, sizeof(conf), "start shell\n  right console\n");
	}
	conf[n] = 0;
	svc_run();
	run_config(conf);

	for (;;) {
		int status;
		int pid = qs_waitpid(-1, &status, 0);
		if (pid > 0)
			svc_ended(pid, status, false);
		else if (pid < 0)
			qs_sleep(1000); /* no children at all: nothing to reap */
	}
}
