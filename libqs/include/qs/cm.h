/*
 * The communication manager's protocol (servers/cm), queue "cm". For now
 * the CM owns the e1000 and nothing else: CM_OP_STATS reports the driver,
 * and CM_OP_RAW_SEND / CM_OP_RAW_RECV move raw Ethernet frames so that the
 * driver and the LAN can be tested before there is a network stack. The raw
 * ops are a test hook: lwIP takes the NIC over and they go.
 */
#ifndef QS_CM_H
#define QS_CM_H

#include <stdint.h>

#define CM_QUEUE "cm"
#define CM_FRAME_MIN 14   /* an Ethernet header */
#define CM_FRAME_MAX 1514 /* header and 1500 bytes of payload, no FCS */

enum {
	CM_OP_STATS = 1,    /* nothing -> cm_stats_t */
	CM_OP_RAW_SEND = 2, /* data: one frame, CM_FRAME_MIN..MAX bytes -> 0 */
	CM_OP_RAW_RECV = 3, /* nothing -> the next frame received, or QS_EAGAIN */
};

typedef struct {
	uint64_t rx;           /* good frames received */
	uint64_t tx;           /* frames queued to send */
	uint64_t rx_dropped;   /* received frames dropped: too short, too long,
			        * or marked bad by the device */
	uint64_t errors;       /* sends refused (bad length, ring full) */
	uint64_t link_changes; /* link went up or down */
	uint64_t interrupts;
} cm_counters_t;

typedef struct {
	cm_counters_t c;
	uint8_t mac[6];
	uint8_t link; /* 1 up, 0 down */
	uint8_t irq;
} cm_stats_t;

#endif
