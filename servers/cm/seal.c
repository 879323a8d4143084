/*
 * Packet authentication with the cluster key (seal.h). The tag is keyed
 * BLAKE2s-128 (RFC 7693, libtomcrypt's blake2smac), computed over the whole
 * packet as sent: header, body, and so the incarnations and sequence
 * numbers that the CM's exactly-once layer and membership already check.
 * A replayed packet is therefore one they have seen (a duplicate REQ gets
 * the cached answer, a REP or heartbeat from an earlier incarnation or
 * sequence is stale), and a forged or altered one fails here.
 */
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>
#include "seal.h"

static uint8_t seal_key[SEAL_KEY_LEN];
static bool keyed;

int
seal_init(const uint8_t *key, uint32_t len)
{
	if (len != SEAL_KEY_LEN)
		return -1;
	memcpy(seal_key, key, SEAL_KEY_LEN);
	keyed = true;
	return 0;
}

int
seal_init_hex(const char *hex)
{
	uint8_t key[SEAL_KEY_LEN];
	if (strlen(hex) != 2 * SEAL_KEY_LEN ||
	    qs_hex_decode(hex, key, SEAL_KEY_LEN) < 0)
		return -1;
	return seal_init(key, SEAL_KEY_LEN);
}

bool
seal_on(void)
{
	return keyed;
}

static int
tag_of(const uint8_t *pkt, uint32_t len, uint8_t tag[SEAL_TAG_LEN])
{
	unsigned long n = SEAL_TAG_LEN;
	return blake2smac_memory(seal_key, SEAL_KEY_LEN, pkt, len, tag, &n) ==
			       CRYPT_OK &&
		       n == SEAL_TAG_LEN
		       ? 0
		       : -1;
}

uint32_t
seal(uint8_t *pkt, uint32_t len)
{
	if (!keyed)
		return len;
	if (tag_of(pkt, len, pkt + len) < 0)
		memset(pkt + len, 0, SEAL_TAG_LEN); /* never verifies: dropped */
	return len + SEAL_TAG_LEN;
}

int32_t
seal_open(const uint8_t *pkt, uint32_t len)
{
	uint8_t tag[SEAL_TAG_LEN];
	if (!keyed)
		return (int32_t)len;
	if (len < SEAL_TAG_LEN || len > 0x7fffffff)
		return -1;
	len -= SEAL_TAG_LEN;
	if (tag_of(pkt, len, tag) < 0 ||
	    mem_neq(tag, pkt + len, SEAL_TAG_LEN) != 0)
		return -1;
	return (int32_t)len;
}
