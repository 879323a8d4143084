/*
 * The CMs' packet seal (servers/cm/seal.c) over libtomcrypt's keyed
 * BLAKE2s: libtomcrypt's own test vectors first, then what the CM relies
 * on: a sealed packet opens to its length; any changed byte, a tag cut
 * short, another key or no tag at all does not open.
 */
#include <string.h>
#include <tomcrypt.h>
#include "check.h"
#include "../../servers/cm/seal.h"

static uint8_t key[SEAL_KEY_LEN];
static uint8_t pkt[256 + SEAL_TAG_LEN];

static void
test_library_vectors(void)
{
	CHECK(blake2s_128_test() == CRYPT_OK);
	CHECK(blake2s_256_test() == CRYPT_OK);
	CHECK(blake2smac_test() == CRYPT_OK);
}

static uint32_t
sealed(uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		pkt[i] = (uint8_t)(i * 7 + 1);
	return seal(pkt, len);
}

static void
test_sealed_packets_open(void)
{
	for (uint32_t len = 0; len <= 256; len += 37) {
		uint32_t n = sealed(len);
		CHECK(n == len + SEAL_TAG_LEN);
		CHECK(seal_open(pkt, n) == (int32_t)len);
	}
}

static void
test_any_changed_byte_is_refused(void)
{
	uint32_t n = sealed(100);
	for (uint32_t i = 0; i < n; i++) {
		pkt[i] ^= 0x01;
		CHECK(seal_open(pkt, n) == -1);
		pkt[i] ^= 0x01;
	}
	CHECK(seal_open(pkt, n) == 100);
}

static void
test_short_and_cut_packets_are_refused(void)
{
	uint32_t n = sealed(40);
	CHECK(seal_open(pkt, n - 1) == -1);  /* the tag cut short */
	CHECK(seal_open(pkt, 40) == -1);     /* no tag at all */
	CHECK(seal_open(pkt, SEAL_TAG_LEN - 1) == -1);
	CHECK(seal_open(pkt, 0) == -1);
	CHECK(seal_open(pkt, 0xFFFFFFFFu) == -1);
}

static void
test_another_key_does_not_open(void)
{
	uint8_t other[SEAL_KEY_LEN];
	uint32_t n = sealed(64);
	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	CHECK(seal_init(other, sizeof(other)) == 0);
	CHECK(seal_open(pkt, n) == -1);
	CHECK(seal_init(key, sizeof(key)) == 0);
	CHECK(seal_open(pkt, n) == 64);
	CHECK(seal_init(key, 16) == -1); /* a key is 32 bytes */
}

static void
test_a_key_from_hex(void)
{
	char hex[2 * SEAL_KEY_LEN + 2];
	static const char digit[] = "0123456789abcdef";
	for (uint32_t i = 0; i < SEAL_KEY_LEN; i++) {
		hex[2 * i] = digit[key[i] >> 4];
		hex[2 * i + 1] = digit[key[i] & 15];
	}
	hex[2 * SEAL_KEY_LEN] = 0;
	uint32_t n = sealed(50);
	CHECK(seal_init_hex(hex) == 0 && seal_open(pkt, n) == 50);
	hex[5] = 'g';
	CHECK(seal_init_hex(hex) == -1);
	hex[5] = '0';
	hex[2 * SEAL_KEY_LEN] = '0'; /* one digit too many */
	hex[2 * SEAL_KEY_LEN + 1] = 0;
	CHECK(seal_init_hex(hex) == -1);
	CHECK(seal_init_hex("abcd") == -1);
	CHECK(seal_init(key, sizeof(key)) == 0);
}

int
main(void)
{
	for (uint32_t i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (uint8_t)(0xA5 ^ i);
	RUN(test_library_vectors);
	CHECK(!seal_on());
	CHECK(seal(pkt, 10) == 10 && seal_open(pkt, 10) == 10); /* unkeyed */
	CHECK(seal_init(key, sizeof(key)) == 0 && seal_on());
	RUN(test_sealed_packets_open);
	RUN(test_any_changed_byte_is_refused);
	RUN(test_short_and_cut_packets_are_refused);
	RUN(test_another_key_does_not_open);
	RUN(test_a_key_from_hex);
	return check_summary();
}
