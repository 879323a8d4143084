/* CRC-32C (qs/crc.h), a byte at a time from a table made at first use. */
#include <qs/crc.h>

static uint32_t table[256];
static volatile int made;

static void
make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	made = 1; /* racing makers write the same values */
}

uint32_t
qs_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (!made)
		make_table();
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
