/*
 * Packet authentication (docs/security.md, "The cluster key"): every
 * packet a CM sends ends with a tag, keyed BLAKE2s over everything before
 * it (libtomcrypt's blake2smac, keyed with the cluster key); a packet whose
 * tag does not verify is dropped before anything reads it.
 */
#ifndef CM_SEAL_H
#define CM_SEAL_H

#include <stdbool.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32
#define SEAL_TAG_LEN 16

/* Keys the seal; a node without a key (no key given) runs unsealed. */
int seal_init(const uint8_t *key, uint32_t len);
/* The same from KEY's 64 hex digits (as qsnet writes STATE/key): for the
 * test programs that forge sealed packets. */
int seal_init_hex(const char *hex);
bool seal_on(void);
/* Writes the tag of pkt[0..len) at pkt + len (SEAL_TAG_LEN bytes of room);
 * returns the length to send: len + SEAL_TAG_LEN, or len when unsealed. */
uint32_t seal(uint8_t *pkt, uint32_t len);
/* Checks the tag at the end of pkt[0..len): the length without it, or -1
 * (too short for a tag, or a tag that does not verify). */
int32_t seal_open(const uint8_t *pkt, uint32_t len);

#endif
