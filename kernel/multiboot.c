/*
 * Reads GRUB's Multiboot information: the memory map feeds the page
 * allocator; every module (one per user program and config file) is
 * recorded by name and its pages are kept out of circulation.
 */
#include <stdio.h>
#include <stdlib.h>
#include "kernel.h"
#include "boot.h"
#include "pmm.h"
#include "proc.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define MB_INFO_CMDLINE 0x004
#define MB_INFO_MODS 0x008
#define MB_INFO_MMAP 0x040
#define MAX_MODULES 64

typedef struct {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} mb_info_t;

typedef struct {
	uint32_t start, end, string, reserved;
} mb_module_t;

typedef struct __attribute__((packed)) {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} mb_mmap_t;

extern char kernel_start[], kernel_end[];

static module_t modules[MAX_MODULES];
static int nmodules;
static char cmdline[256];

static void
record_module(const mb_module_t *m)
{
	const char *s = (const char *)m->string;
	module_t *mod;

	if (nmodules == MAX_MODULES) {
		klog("too many modules; ignoring %s", s ? s : "?");
		return;
	}
	mod = &modules[nmodules++];
	mod->start = m->start;
	mod->size = m->end - m->start;
	/* the module's name is the first word of its GRUB command line */
	int i = 0;
	while (s && s[i] && s[i] != ' ' && i < QS_NAME_MAX - 1) {
		mod->name[i] = s[i];
		i++;
	}
	mod->name[i] = 0;
}

void
multiboot_init(uint32_t magic, uint32_t info_addr)
{
	const mb_info_t *info = (const mb_info_t *)info_addr;

	if (magic != MB_BOOT_MAGIC)
		panic("not booted by a Multiboot loader (magic %08x)", magic);
	if (!(info->flags & MB_INFO_MMAP))
		panic("no memory map from the boot loader");

	pmm_init();
	for (uint32_t off = 0; off < info->mmap_length;) {
		const mb_mmap_t *e = (const mb_mmap_t *)(info->mmap_addr + off);
		if (e->type == 1)
			pmm_add_free_range(e->addr, e->len);
		off += e->size + 4;
	}
	/* BIOS area, the kernel, and the boot information itself */
	pmm_reserve_range(0, 0x100000);
	pmm_reserve_range((uint32_t)kernel_start,
			  (uint32_t)kernel_end - (uint32_t)kernel_start);
	if ((info->flags & MB_INFO_CMDLINE) && info->cmdline)
		strlcpy(cmdline, (const char *)info->cmdline, sizeof(cmdline));
	if (info->flags & MB_INFO_MODS) {
		const mb_module_t *m = (const mb_module_t *)info->mods_addr;
		for (uint32_t i = 0; i < info->mods_count; i++) {
			record_module(&m[i]);
			pmm_reserve_range(m[i].start, m[i].end - m[i].start);
		}
	}
}

const module_t *
module_find(const char *name)
{
	for (int i = 0; i < nmodules; i++)
		if (strcmp(modules[i].name, name) == 0)
			return &modules[i];
	return NULL;
}

int
module_read(const char *name, uint32_t offset, uint32_t user_buf, uint32_t len)
{
	const module_t *m = module_find(name);
	if (!m)
		return QS_ENOENT;
	if (offset >= m->size)
		return 0;
	if (len > m->size - offset)
		len = m->size - offset;
	int r = copy_to_user(user_buf, (const void *)(m->start + offset), len);
	return r < 0 ? r : (int)len;
}

static int
cmdline_arg(const char *key, char *buf, uint32_t len)
{
	size_t klen = strlen(key);
	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			uint32_t n = (uint32_t)(end - p - klen - 1);
			if (len)
				strlcpy(buf, p + klen + 1, n + 1 < len ? n + 1 : len);
			return (int)n;
		}
		p = end;
	}
	return QS_ENOENT;
}

int
boot_arg(const char *key, char *buf, uint32_t len)
{
	char name[64];
	snprintf(name, sizeof(name), "opt/qs/%s", key);
	int r = fwcfg_read_file(name, buf, len);
	return r >= 0 ? r : cmdline_arg(key, buf, len);
}

/* A small number the host tool passes, or 0; read once and kept. */
static uint32_t
boot_number(const char *key, uint32_t max)
{
	char buf[16];
	long v;
	if (boot_arg(key, buf, sizeof(buf)) < 0 || qs_parse_int(buf, &v) < 0 ||
	    v < 0 || (unsigned long)v > max)
		return 0;
	return (uint32_t)v;
}

int32_t boot_node = -1;

uint32_t
boot_node_id_read(void)
{
	boot_node = (int32_t)boot_number("node", 255);
	return (uint32_t)boot_node;
}

uint32_t
boot_incarnation(void)
{
	static int32_t inc = -1;
	if (inc < 0)
		inc = (int32_t)boot_number("incarnation", 0xFFFF);
	return (uint32_t)inc;
}
