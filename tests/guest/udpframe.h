/*
 * A raw Ethernet frame carrying one IPv4/UDP datagram from this node, for
 * the test tools that inject packets through the CM's raw-frame hook
 * (ethtest junk, netjunk): broadcast MAC, so no ARP is needed; the IP
 * destination says who takes it.
 */
#ifndef TESTS_GUEST_UDPFRAME_H
#define TESTS_GUEST_UDPFRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define UDPFRAME_HDR 42 /* Ethernet, IPv4 and UDP headers */

static uint16_t
inet_sum(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Fills f (room for UDPFRAME_HDR + n bytes) with a datagram from node
 * `from` (10.0.0.from+1, our MAC) to 10.0.0.`to_last` port `port`; a bad
 * checksum if bad_sum. Returns the frame's length, padded to 60.
 */
static uint32_t
udp_frame(uint8_t *f, const uint8_t mac[6], uint32_t from, uint8_t to_last,
	  uint16_t port, const void *payload, uint32_t n, bool bad_sum)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(f, 0xFF, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + n) >> 8), ip[3] = (uint8_t)(28 + n);
	ip[8] = 64, ip[9] = 17; /* TTL, UDP */
	ip[12] = 10, ip[15] = (uint8_t)(from + 1);
	ip[16] = 10, ip[19] = to_last;
	uint16_t c = inet_sum(0, ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = udp[2] = (uint8_t)(port >> 8), udp[1] = udp[3] = (uint8_t)port;
	udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n);
	memcpy(udp + 8, payload, n);
	/* the pseudo header: addresses, protocol, UDP length */
	uint32_t sum = (10 << 8) + (from + 1) + (10 << 8) + to_last + 17 + 8 + n;
	c = inet_sum(sum, udp, 8 + n);
	if (c == 0)
		c = 0xFFFF; /* 0 would mean "no checksum" */
	if (bad_sum)
		c ^= 0x5A5A;
	udp[6] = (uint8_t)(c >> 8), udp[7] = (uint8_t)c;
	uint32_t len = UDPFRAME_HDR + n;
	if (len < 60)
		memset(f + len, 0, 60 - len);
	return len < 60 ? 60 : len;
}

#endif
