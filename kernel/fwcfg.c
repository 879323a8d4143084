/*
 * QEMU's fw_cfg device (I/O ports 0x510/0x511): the host tool hands each
 * node its identity through named files "opt/qs/...".
 */
#include "kernel.h"
#include "boot.h"
#include "x86.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019

static bool present;

static void
fwcfg_select(uint16_t key)
{
	qs_outw(FW_CFG_SEL, key);
}

static void
fwcfg_bytes(void *buf, uint32_t len)
{
	uint8_t *p = buf;
	while (len--)
		*p++ = qs_inb(FW_CFG_DATA);
}

static uint32_t
be32(uint32_t v)
{
	return __builtin_bswap32(v);
}

void
fwcfg_init(void)
{
	char sig[4];
	fwcfg_select(FW_CFG_SIGNATURE);
	fwcfg_bytes(sig, 4);
	present = memcmp(sig, "QEMU", 4) == 0;
}

/* Copies up to len-1 bytes and NUL-terminates; returns the file's size. */
int
fwcfg_read_file(const char *name, char *buf, uint32_t len)
{
	struct {
		uint32_t size;
		uint16_t select, reserved;
		char name[56];
	} f;
	uint32_t count;

	if (!present)
		return QS_ENOENT;
	fwcfg_select(FW_CFG_FILE_DIR);
	fwcfg_bytes(&count, 4);
	count = be32(count);
	for (uint32_t i = 0; i < count; i++) {
		fwcfg_bytes(&f, sizeof(f));
		f.name[55] = 0;
		if (strcmp(f.name, name) != 0)
			continue;
		uint32_t size = be32(f.size);
		fwcfg_select(__builtin_bswap16(f.select));
		uint32_t n = size < len ? size : (len ? len - 1 : 0);
		fwcfg_bytes(buf, n);
		if (len)
			buf[n] = 0;
		return (int)size;
	}
	return QS_ENOENT;
}
