/*
 * The communication manager's protocol (servers/cm), queue "cm". The CM
 * owns the e1000 and runs lwIP on it: node N is 10.0.0.(N+1)/24.
 * CM_OP_STATS reports the driver and the stack; CM_OP_PING sends one ICMP
 * echo. CM_OP_RAW_SEND / CM_OP_RAW_RECV move raw Ethernet frames of types
 * other than IPv4 and ARP: a test hook for the driver and the LAN, for
 * callers with QS_RIGHT_RAW_NET (QS_EPERM otherwise).
 * CM_OP_UDP_ECHO times raw lwIP UDP round trips to another node's CM
 * (servers/cm/udpecho.c), the baseline `make bench` sets remote requests
 * against; it needs QS_RIGHT_ADMIN, and stops after ECHO_LOST_MAX losses in
 * a row.
 *
 * Errors: every request may get QS_ENOSYS (no such opcode) and QS_EINVAL
 * (data of another size than its comment says, or out-of-line data);
 * each operation's others are in its comment. Neither changes anything.
 *
 * The CM also serves QS_NET_QUEUE ("kernel.net", qs/abi.h), where the
 * kernel sends it QS_NOTICE_LOOKUP (a name of 1 to QS_NAME_MAX - 1
 * characters, with its NUL) and requests for proxies, which it forwards
 * whatever their opcode. A lookup's answer is a queue id, QS_EUNREACH (the
 * named node is down), or another error the kernel turns into QS_ENOENT.
 */
#ifndef QS_CM_H
#define QS_CM_H

#include <stdint.h>

#define CM_QUEUE "cm"
#define CM_FRAME_MIN 14   /* an Ethernet header */
#define CM_FRAME_MAX 1514 /* header and 1500 bytes of payload, no FCS */

enum {
	CM_OP_STATS = 1,    /* nothing -> cm_stats_t */
	CM_OP_RAW_SEND = 2, /* data: one frame, CM_FRAME_MIN..MAX bytes -> 0;
			       QS_EINVAL (another length: the driver refuses
			       it and counts it in cm_counters_t.errors),
			       QS_EAGAIN (the transmit ring is full) */
	CM_OP_RAW_RECV = 3, /* nothing -> the next frame received, or QS_EAGAIN */
	CM_OP_PING = 4,     /* cm_ping_t -> round trip in ms; QS_ETIMEDOUT
			       (no reply in 1 s), QS_EUNREACH (no route: link
			       down), QS_EINVAL (seq outside 1..65535, or no
			       such node), QS_ELIMIT (the caller has 2 pings
			       under way), QS_EAGAIN (8 under way in all),
			       QS_ENOMEM. The CM's thread does not wait for
			       the echo: others are served meanwhile */
	CM_OP_NODES = 5,    /* nothing -> cm_nodes_t */
	CM_OP_RPC_STATS = 6, /* nothing -> cm_rpc_stats_t */
	CM_OP_UDP_ECHO = 7, /* cm_udp_echo_t -> cm_udp_echo_result_t; QS_EINVAL
			       (count outside 1..CM_UDP_ECHO_MAX, or no such
			       node), QS_EUNREACH (nothing came back) */
	CM_OP_TX_MARK = 8,  /* from the local TM: uint64_t tx has a recoverable
			       participant here; answers for it to other nodes
			       say so (the TMs' piggyback) -> 0; QS_EINVAL
			       (tx 0), QS_EPERM (not this node's TM) */
	CM_OP_TX_UNMARK = 9, /* from the local TM: uint64_t tx has ended here;
				forget its mark -> 0; as TX_MARK */
	CM_OP_DEFER_DELAY = 10, /* a test hook, QS_RIGHT_ADMIN: uint32_t ms
				   (0..CM_DEFER_DELAY_MAX) the forwarding
				   threads wait between sending a request (or
				   a lookup) and deferring it, so that its
				   answer comes first -> the previous delay;
				   QS_EINVAL (more), QS_EPERM */
};
#define CM_DEFER_DELAY_MAX 5000

/*
 * UDP echo: every CM answers datagrams on CM_UDP_ECHO_PORT. CM_OP_UDP_ECHO
 * sends `count` of them to `node`, one at a time, after a few unmeasured
 * ones, and times each inside the CM with rdtsc, from before udp_sendto to
 * the asking thread running again after the receive callback woke it: the
 * network part of a remote request, without the local IPC at either end.
 */
#define CM_UDP_ECHO_PORT 7072
#define CM_UDP_ECHO_MAX 4096 /* echoes timed per request */

typedef struct {
	uint32_t node;
	uint32_t count; /* 1..CM_UDP_ECHO_MAX */
} cm_udp_echo_t;

typedef struct {
	uint32_t median; /* rdtsc ticks per echo (instructions under icount) */
	uint32_t min, max;
	uint32_t lost;   /* echoes not answered in time (not timed) */
	uint64_t total;  /* of the answered ones */
} cm_udp_echo_result_t;

/*
 * Membership: heartbeats on UDP port CM_PORT every CM_HEARTBEAT_MS; a node
 * silent for CM_SUSPECT_MS is suspect, for CM_DOWN_MS down. Down is when
 * requests waiting for that node fail (QS_EUNREACH, "outcome unknown"):
 * CM_DOWN_MS is longer than the link cuts the system rides out (a 5 s
 * cut loses nothing), and shorter than a user would wait for an error.
 */
#define CM_PORT 7070
#define CM_HEARTBEAT_MS 500
#define CM_SUSPECT_MS 1500
#define CM_DOWN_MS 8000
#define CM_NODES_MAX 254 /* node ids 0..253: 10.0.0.1 .. 10.0.0.254 */

enum { CM_NODE_UP = 1, CM_NODE_SUSPECT = 2, CM_NODE_DOWN = 3 };

typedef struct {
	uint32_t node;
	uint32_t state;       /* CM_NODE_* */
	uint32_t incarnation; /* the last one heard */
	uint32_t last_ms;     /* in cm_nodes_t: how long ago it was heard */
	uint32_t heartbeats;  /* received from it */
	uint32_t restarts;    /* times its incarnation went up */
} cm_node_t;

typedef struct {
	uint32_t count;       /* entries that follow */
	uint32_t bad_packets; /* malformed or forged heartbeats dropped */
	cm_node_t node[];
} cm_nodes_t;

typedef struct {
	uint32_t node; /* whom to ping */
	uint32_t seq;  /* 1..65535 */
} cm_ping_t;

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
	uint32_t addr;                 /* IPv4, network byte order */
	uint32_t ip_rx, ip_tx, ip_drop; /* lwIP's IP and link counters */
} cm_stats_t;

/* Remote requests and names (servers/cm/rpc.c, names.c). */
typedef struct {
	uint32_t req_tx, req_rx;   /* requests sent (first time) and received */
	uint32_t rep_tx, rep_rx;   /* replies sent (first time) and received */
	uint32_t retransmits;      /* requests sent again */
	uint32_t duplicates;       /* requests received again: not run again */
	uint32_t late;             /* replies no request waited for any more */
	uint32_t stale;            /* from or for an earlier incarnation */
	uint32_t bad;              /* malformed or forged packets dropped */
	uint32_t busy;             /* requests not taken (full): sent again */
	uint32_t unreachable;      /* requests answered QS_EUNREACH */
	uint32_t edges;            /* transaction edges told to the TM */
	uint32_t inflight;         /* our requests waiting for answers now */
	uint32_t cached;           /* other nodes' requests remembered now */
	uint32_t proxies;          /* queues of other nodes known here */
	uint32_t udp_bad;          /* lwIP: UDP checksum, length, port errors */
	uint32_t marks;            /* transactions marked recoverable now */
	uint32_t heap;             /* the CM's heap in use, bytes */
	/* packets refused, by kind (`bad` is their sum; `stale` apart) */
	uint32_t rej_header;       /* CM port: short, magic, version, type,
				      length against the datagram, sender
				      against its address, incarnation 0 */
	uint32_t rej_length;       /* body lengths that do not add up */
	uint32_t rej_seq;          /* REQ seq outside the window, REP for a
				      seq never sent, ACK with a seq */
	uint32_t rej_floor;        /* floor beyond what the sender could
				      have sent */
	uint32_t rej_inc;          /* incarnation not plausible (too far,
				      too soon, unknown node), heartbeats too */
	uint32_t rej_queue;        /* REQ for a local-only queue, a proxy or
				      none: answered QS_EPERM / QS_EQGONE */
	uint32_t rej_heartbeat;    /* heartbeats refused (malformed, forged,
				      stale, implausible incarnation) */
	uint32_t rej_seal;         /* packets and heartbeats whose tag (the
				      cluster key's, servers/cm/seal.c) is
				      missing or wrong */
	uint32_t rej_replay;       /* heartbeats sealed rightly but seen
				      before: a sequence not above the last
				      of that incarnation */
	uint32_t marks_full;       /* marks that found no room: then every
				      answer says recoverable */
	uint32_t answers_held;     /* answers that came before their request
				      was deferred, given when it was */
	uint32_t lookups_limited;  /* lookups refused: their client had
				      LOOKUPS_PER_CLIENT under way (names.c) */
	uint32_t redirected;       /* requests for a queue that was gone,
				      taken by the queue its server made again
				      under the same name */
} cm_rpc_stats_t;

#endif
