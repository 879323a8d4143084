/* init's programs and its watch over the services among them (service.c;
 * protocol: qs/svc.h). */
#ifndef INIT_SERVICE_H
#define INIT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

/* A program of the config: recorded, then started suspended; its pid, or
 * a negative error (said). */
int svc_start(char **argv, int lineno);
/* Grants the program last started something (qs_grant's kind, base, len;
 * a name's base is the string) and records it for its restarts. */
int svc_grant(int kind, uint32_t base, uint32_t len);
/* The program last started is a service: restarted when it ends; with a
 * queue, also sent a keep-alive every SVC_PING_EVERY_MS that must be
 * answered within ping_ms. */
int svc_watch(const char *queue, uint32_t ping_ms);
/* The program last started is essential: when it dies, the node stops
 * (its recovery state died with it). Not with watch. */
int svc_essential(void);
/* After the config: serves queue "init" and starts the watch. */
void svc_run(void);
/* A child of init ended (its waitpid); starting: before it offered the
 * queue init awaited (it could not start: neither restarted nor, if
 * essential, a reason to stop the node). */
void svc_ended(int pid, int status, bool starting);

#endif
