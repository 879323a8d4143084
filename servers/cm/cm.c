/*
 * cm, the communication manager. For now it owns the e1000 and serves
 * queue "cm" (qs/cm.h): the driver's counters, and raw frames in and out
 * as a test hook until lwIP sits on the driver.
 *
 * Two threads: one waits for the device's IRQ and notices link changes;
 * the other serves the queue, one request at a time, and is the only one
 * that sends and receives, which is what the driver asks (e1000.h).
 */
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "e1000.h"

/* How long the IRQ thread waits before it looks at the link anyway. */
#define LINK_POLL_MS 1000

static e1000_t nic;
/* A RAW_RECV answer; the kernel copies it out after the handler returns,
 * before this (only) serving thread takes the next request. */
static uint8_t frame[CM_FRAME_MAX];

static void *
irq_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int r = e1000_intr(&nic, LINK_POLL_MS);
		if (r < 0 && r != QS_ETIMEDOUT) {
			printf("cm: waiting for IRQ %d: %s\n", nic.irq,
			       qs_strerror(r));
			qs_exit(1);
		}
	}
	return NULL;
}

static int32_t
op_stats(const qs_msg_t *req, qs_msg_t *reply)
{
	cm_stats_t s;
	if (req->hdr.len || req->hdr.ool_len)
		return QS_EINVAL;
	memset(&s, 0, sizeof(s));
	s.c = nic.c;
	memcpy(s.mac, nic.mac, sizeof(s.mac));
	s.link = e1000_link_up(&nic);
	s.irq = (uint8_t)nic.irq;
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	switch (req->hdr.opcode) {
	case CM_OP_STATS:
		return op_stats(req, reply);
	case CM_OP_RAW_SEND:
		if (req->hdr.ool_len)
			return QS_EINVAL;
		return e1000_send(&nic, req->data, req->hdr.len);
	case CM_OP_RAW_RECV: {
		if (req->hdr.len || req->hdr.ool_len)
			return QS_EINVAL;
		int n = e1000_recv(&nic, frame, sizeof(frame));
		if (n < 0)
			return n;
		qs_msg_put(reply, frame, (size_t)n);
		return 0;
	}
	}
	return QS_EINVAL;
}

int
main(void)
{
	if (e1000_init(&nic) < 0)
		return 1; /* it said why */
	/* A first look without waiting: is the IRQ line ours? */
	int r = e1000_intr(&nic, 0);
	if (r == QS_EPERM) {
		printf("cm: the e1000 interrupts on IRQ %d, which init did not "
		       "grant (grant irq %d)\n", nic.irq, nic.irq);
		return 1;
	}
	const uint8_t *m = nic.mac;
	printf("cm: e1000 %02x:%02x:%02x:%02x:%02x:%02x irq %d link %s\n",
	       m[0], m[1], m[2], m[3], m[4], m[5], nic.irq,
	       e1000_link_up(&nic) ? "up" : "down");
	int qid = qs_sq_create(CM_QUEUE, 0);
	if (qid < 0) {
		printf("cm: cannot create queue %s: %s\n", CM_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	if (!qs_thread_create(irq_loop, NULL)) {
		printf("cm: cannot start the IRQ thread\n");
		return 1;
	}
	printf("cm: serving queue %s (qid %d)\n", CM_QUEUE, qid);
	return qs_serve(qid, handle, NULL, 1) < 0;
}
