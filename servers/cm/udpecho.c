/*
 * UDP echo (qs/cm.h, CM_OP_UDP_ECHO): a responder on CM_UDP_ECHO_PORT that
 * sends every request datagram back, and the timed client side. It exists
 * so that `make bench` can set a remote request against the bare network
 * path it rides on: lwIP, the e1000 and the LAN, both ways, with the
 * receive callback waking a waiting thread as rpc.c's do, but with no
 * local IPC at either end. Runs under net_lock like all lwIP code here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/sys.h>
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "netif.h"
#include "udpecho.h"

#define ECHO_MAGIC 0x51534543u /* "QSEC" */
#define ECHO_WARMUP 20         /* unmeasured: ARP, caches, the peer's too */
#define ECHO_LOST_MAX 4 /* in a row: the peer is gone */
#define ECHO_WAIT_MS 1000      /* then the echo counts as lost */

enum { ECHO_REQ = 1, ECHO_REP = 2 };

typedef struct {
	uint32_t magic;
	uint32_t kind; /* ECHO_* */
	uint32_t seq;
} echo_pkt_t;

static struct udp_pcb *pcb;
static qs_cond_t answered = QS_COND_INIT;
static uint32_t waiting_seq; /* the echo we wait for, 0 if none */
static bool got;
static uint32_t samples[CM_UDP_ECHO_MAX];

static void
receive(void *arg, struct udp_pcb *upcb, struct pbuf *p, const ip_addr_t *from,
	u16_t port)
{
	(void)arg;
	echo_pkt_t e;
	bool ok = p->tot_len == sizeof(e) &&
		  pbuf_copy_partial(p, &e, sizeof(e), 0) == sizeof(e) &&
		  e.magic == ECHO_MAGIC;
	if (ok && e.kind == ECHO_REQ) {
		/* the same bytes back but for the kind: reuse the pbuf */
		e.kind = ECHO_REP;
		pbuf_take(p, &e, sizeof(e));
		udp_sendto(upcb, p, from, port);
	} else if (ok && e.kind == ECHO_REP && waiting_seq &&
		   e.seq == waiting_seq) {
		got = true;
		qs_cond_signal(&answered);
	}
	pbuf_free(p);
}

int
udpecho_start(void)
{
	if (!(pcb = udp_new()) ||
	    udp_bind(pcb, IP4_ADDR_ANY, CM_UDP_ECHO_PORT) != ERR_OK)
		return QS_ENOMEM;
	udp_recv(pcb, receive, NULL);
	return 0;
}

/* One echo to `to`: ticks from the send to this thread running again,
 * or 0 if it was lost. */
static uint32_t
echo_once(qs_mutex_t *lock, const ip4_addr_t *to, uint32_t seq)
{
	echo_pkt_t e = { ECHO_MAGIC, ECHO_REQ, seq };
	uint64_t t0 = qs_rdtsc();
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, sizeof(e), PBUF_RAM);
	if (!p)
		return 0;
	pbuf_take(p, &e, sizeof(e));
	waiting_seq = seq;
	got = false;
	err_t err = udp_sendto(pcb, p, to, CM_UDP_ECHO_PORT);
	pbuf_free(p);
	uint32_t start = qs_uptime_ms();
	while (err == ERR_OK && !got) {
		int32_t left = (int32_t)(start + ECHO_WAIT_MS - qs_uptime_ms());
		if (left <= 0 ||
		    qs_cond_timedwait(&answered, lock, left) == QS_ETIMEDOUT)
			break;
	}
	uint64_t t1 = qs_rdtsc();
	waiting_seq = 0;
	return got ? (uint32_t)(t1 - t0) : 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sequence numbers go on across requests, so a late echo of an earlier
 * one never passes for the one awaited; 0 means none. */
static uint32_t
next_seq(void)
{
	static uint32_t seq;
	return ++seq ? seq : ++seq;
}

int
udpecho_run(qs_mutex_t *lock, const cm_udp_echo_t *a, cm_udp_echo_result_t *r)
{
	ip4_addr_t to, mask;
	/* cm.c's decode refused such counts; samples[] relies on it here */
	if (a->count == 0 || a->count > CM_UDP_ECHO_MAX ||
	    qs_net_addr(a->node, &to, &mask) < 0)
		return QS_EINVAL;
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < ECHO_WARMUP; i++)
		echo_once(lock, &to, next_seq());
	uint32_t n = 0, lost_in_a_row = 0;
	for (uint32_t i = 0; i < a->count; i++) {
		uint32_t t = echo_once(lock, &to, next_seq());
		if (!t) {
			r->lost++;
			/* a peer that stopped answering would hold the CM
			   ECHO_WAIT_MS per echo asked for: count the rest lost */
			if (++lost_in_a_row == ECHO_LOST_MAX) {
				r->lost += a->count - i - 1;
				break;
			}
			continue;
		}
		lost_in_a_row = 0;
		samples[n++] = t;
		r->total += t;
	}
	if (!n)
		return QS_EUNREACH;
	qsort(samples, n, sizeof(samples[0]), cmp_u32);
	r->median = samples[n / 2];
	r->min = samples[0];
	r->max = samples[n - 1];
	return 0;
}
