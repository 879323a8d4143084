/*
 * Raw Ethernet through the CM's test hook (CM_OP_RAW_SEND/RECV, qs/cm.h),
 * to test the e1000 driver and the LAN before there is a network stack.
 *
 *   ethtest send N [TAG]          broadcasts N frames of pattern TAG (1)
 *   ethtest recv N [TAG] [SECS]   waits up to SECS (30) for N distinct
 *                                 frames of TAG; frames of other tags or
 *                                 kinds are consumed and counted as others
 *   ethtest stats                 the driver's counters, link and MAC
 *   ethtest bad                   a too short and a too long frame: both
 *                                 must be refused
 *   ethtest junk N                N UDP packets to the CMs' heartbeat port
 *                                 (qs/cm.h): garbage, and heartbeats that
 *                                 lie about the sender; the CMs count them
 *
 * A frame: broadcast, our MAC, EtherType 0x88B5 (IEEE's local experimental
 * type), then "QSET", the tag, the sequence number, and pattern bytes up to
 * a length that varies with the sequence number (60 to 1514 bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "udpframe.h"

#define ETHERTYPE 0x88B5
#define HDR 26 /* Ethernet header, magic, tag, sequence number */
#define MAX_FRAMES 4096
#define SEND_RETRY_MS 5000 /* the TX ring stays full: give up */

static int qid;
static qs_msg_t req, reply;
static uint8_t seen[MAX_FRAMES];

static int
cm_call(uint32_t op, const void *data, uint32_t len)
{
	qs_msg_init(&req, op);
	if (len)
		qs_msg_put(&req, data, len);
	return qs_call(qid, &req, &reply, sizeof(reply));
}

static uint32_t
frame_len(uint32_t seq)
{
	return 60 + seq * 97 % (CM_FRAME_MAX - 60 + 1);
}

static uint8_t
pattern(uint32_t tag, uint32_t seq, uint32_t k)
{
	return (uint8_t)(tag * 31 + seq * 7 + k);
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int
get_stats(cm_stats_t *s)
{
	int r = cm_call(CM_OP_STATS, NULL, 0);
	if (r == 0 && reply.hdr.len != sizeof(*s))
		r = QS_EINVAL;
	if (r < 0)
		printf("ethtest: stats: %s\n", qs_strerror(r));
	else
		memcpy(s, reply.data, sizeof(*s));
	return r;
}

static int
send_frames(uint32_t n, uint32_t tag)
{
	static uint8_t f[CM_FRAME_MAX];
	cm_stats_t s;

	if (get_stats(&s) < 0)
		return 1;
	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t len = frame_len(seq);
		memset(f, 0xFF, 6);
		memcpy(f + 6, s.mac, 6);
		f[12] = ETHERTYPE >> 8;
		f[13] = ETHERTYPE & 0xFF;
		memcpy(f + 14, "QSET", 4);
		put32(f + 18, tag);
		put32(f + 22, seq);
		for (uint32_t k = HDR; k < len; k++)
			f[k] = pattern(tag, seq, k);
		int r;
		uint32_t t0 = qs_uptime_ms();
		while ((r = cm_call(CM_OP_RAW_SEND, f, len)) == QS_EAGAIN &&
		       qs_uptime_ms() - t0 < SEND_RETRY_MS)
			qs_sleep(1); /* the TX ring is full: the device drains it */
		if (r < 0) {
			printf("ethtest: error: send of frame %u: %s\n", seq,
			       qs_strerror(r));
			return 1;
		}
	}
	printf("ethtest: sent %u frames\n", n);
	return 0;
}

/* Broadcast IPv4/UDP packets from our own address to CM_PORT. */
static int
send_junk(uint32_t n)
{
	static uint8_t f[128], data[64];
	cm_stats_t s;
	qs_node_info_t ni;
	if (get_stats(&s) < 0)
		return 1;
	qs_node_info(&ni);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t payload = 16;
		if (i % 2) { /* garbage of some length */
			payload = 1 + (uint32_t)rand() % 64;
			for (uint32_t k = 0; k < payload; k++)
				data[k] = (uint8_t)rand();
		} else { /* a heartbeat (magic, version 1) naming another node */
			static const uint8_t hb[8] = { 'Q', 'S', 'H', 'B', 0, 1 };
			memcpy(data, hb, 8);
			data[6] = 0, data[7] = (uint8_t)((ni.node_id + 5) % CM_NODES_MAX);
			memset(data + 8, 0, 8);
		}
		uint32_t len = udp_frame(f, s.mac, ni.node_id, 255, CM_PORT, data,
					 payload, false);
		int r = cm_call(CM_OP_RAW_SEND, f, len);
		if (r < 0) {
			printf("ethtest: error: junk %u: %s\n", i, qs_strerror(r));
			return 1;
		}
	}
	printf("ethtest: sent %u junk packets\n", n);
	return 0;
}

/* 1 for a good frame of TAG (its sequence number in *seq), 0 for another
 * tag or kind, -1 for one of TAG with a wrong length or pattern. */
static int
classify(const uint8_t *f, uint32_t len, uint32_t tag, uint32_t n, uint32_t *seq)
{
	if (len < HDR || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xFF) ||
	    memcmp(f + 14, "QSET", 4) != 0 || get32(f + 18) != tag)
		return 0;
	*seq = get32(f + 22);
	/* every frame is 60 bytes or more: no padding to allow for */
	if (*seq >= n || len != frame_len(*seq))
		return -1;
	for (uint32_t k = HDR; k < len; k++)
		if (f[k] != pattern(tag, *seq, k))
			return -1;
	return 1;
}

static int
recv_frames(uint32_t n, uint32_t tag, uint32_t secs)
{
	uint32_t got = 0, others = 0, bad = 0, dups = 0;
	uint32_t t0 = qs_uptime_ms();

	while (got < n) {
		int r = cm_call(CM_OP_RAW_RECV, NULL, 0);
		if (r == QS_EAGAIN) {
			if (qs_uptime_ms() - t0 >= secs * 1000)
				break;
			qs_sleep(10); /* a test hook: polling will do */
			continue;
		}
		if (r < 0) {
			printf("ethtest: error: receive: %s\n", qs_strerror(r));
			return 1;
		}
		uint32_t seq;
		int c = classify(reply.data, reply.hdr.len, tag, n, &seq);
		if (c == 0)
			others++;
		else if (c < 0)
			bad++;
		else if (seen[seq])
			dups++;
		else
			seen[seq] = 1, got++;
	}
	if (got < n || bad || dups) {
		printf("ethtest: error: received %u of %u frames in %u s "
		       "(%u bad, %u duplicates, %u others)\n", got, n, secs, bad,
		       dups, others);
		return 1;
	}
	printf("ethtest: received %u frames (%u others)\n", n, others);
	return 0;
}

static int
show_stats(void)
{
	cm_stats_t s;
	if (get_stats(&s) < 0)
		return 1;
	printf("ethtest: link %s mac %02x:%02x:%02x:%02x:%02x:%02x irq %u "
	       "rx %llu tx %llu rx_dropped %llu errors %llu link_changes %llu "
	       "interrupts %llu\n", s.link ? "up" : "down", s.mac[0], s.mac[1],
	       s.mac[2], s.mac[3], s.mac[4], s.mac[5], s.irq,
	       (unsigned long long)s.c.rx, (unsigned long long)s.c.tx,
	       (unsigned long long)s.c.rx_dropped,
	       (unsigned long long)s.c.errors,
	       (unsigned long long)s.c.link_changes,
	       (unsigned long long)s.c.interrupts);
	return 0;
}

static int
send_bad(void)
{
	static uint8_t f[CM_FRAME_MAX + 1];
	int shortr = cm_call(CM_OP_RAW_SEND, f, CM_FRAME_MIN - 1);
	int longr = cm_call(CM_OP_RAW_SEND, f, CM_FRAME_MAX + 1);
	if (shortr != QS_EINVAL || longr != QS_EINVAL) {
		printf("ethtest: error: bad frames: short %s, long %s (want %s)\n",
		       qs_strerror(shortr), qs_strerror(longr),
		       qs_strerror(QS_EINVAL));
		return 1;
	}
	printf("ethtest: bad frames refused\n");
	return 0;
}

/* argv[i] as a number in [lo, hi], or def if there is no argv[i]. */
static int
arg(int argc, char **argv, int i, long lo, long hi, long def, uint32_t *out)
{
	long v = def;
	if (i < argc && (qs_parse_int(argv[i], &v) < 0 || v < lo || v > hi)) {
		printf("ethtest: bad number '%s' (%ld to %ld)\n", argv[i], lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	uint32_t n, tag, secs;
	const char *cmd = argc > 1 ? argv[1] : "";

	qid = qs_sq_lookup(CM_QUEUE);
	if (qid < 0) {
		printf("ethtest: no queue %s: %s\n", CM_QUEUE, qs_strerror(qid));
		return 1;
	}
	if (strcmp(cmd, "stats") == 0 && argc == 2)
		return show_stats();
	if (strcmp(cmd, "bad") == 0 && argc == 2)
		return send_bad();
	if (strcmp(cmd, "junk") == 0 && argc == 3) {
		if (arg(argc, argv, 2, 1, MAX_FRAMES, 0, &n) < 0)
			return 1;
		return send_junk(n);
	}
	if (strcmp(cmd, "send") == 0 && argc >= 3 && argc <= 4) {
		if (arg(argc, argv, 2, 1, MAX_FRAMES, 0, &n) < 0 ||
		    arg(argc, argv, 3, 0, 0x7FFFFFFF, 1, &tag) < 0)
			return 1;
		return send_frames(n, tag);
	}
	if (strcmp(cmd, "recv") == 0 && argc >= 3 && argc <= 5) {
		if (arg(argc, argv, 2, 1, MAX_FRAMES, 0, &n) < 0 ||
		    arg(argc, argv, 3, 0, 0x7FFFFFFF, 1, &tag) < 0 ||
		    arg(argc, argv, 4, 1, 3600, 30, &secs) < 0)
			return 1;
		return recv_frames(n, tag, secs);
	}
	printf("ethtest: usage: ethtest send N [TAG] | recv N [TAG] [SECS] | "
	       "stats | bad | junk N\n");
	return 1;
}
