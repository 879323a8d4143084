/*
 * Every field that decides where bytes are read from or written to is
 * checked here, before the loader touches memory: an executable is input
 * like any other.
 */
#include <string.h>
#include <qs/abi.h>
#include "elf.h"

#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PF_W 2

static int
check_header(const elf_ehdr_t *h, uint32_t size)
{
	static const uint8_t magic[] = { 0x7F, 'E', 'L', 'F', 1, 1, 1 };

	if (size < sizeof(*h) || memcmp(h->ident, magic, sizeof(magic)) != 0)
		return QS_ENOEXEC;
	if (h->type != ET_EXEC || h->machine != EM_386 || h->version != 1)
		return QS_ENOEXEC;
	if (h->phentsize != sizeof(elf_phdr_t) || h->phnum == 0)
		return QS_ENOEXEC;
	if (h->phoff > size || (uint32_t)h->phnum * sizeof(elf_phdr_t) >
				       size - h->phoff)
		return QS_ENOEXEC;
	return 0;
}

static int
check_segment(const elf_phdr_t *ph, uint32_t size, uint32_t lo, uint32_t hi)
{
	if (ph->filesz > ph->memsz || ph->memsz == 0)
		return QS_ENOEXEC;
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return QS_ENOEXEC;
	if (ph->vaddr < lo || ph->vaddr >= hi || ph->memsz > hi - ph->vaddr)
		return QS_ENOEXEC;
	return 0;
}

static int
overlaps(const elf_image_t *img, const elf_segment_t *s)
{
	uint32_t s_lo = s->vaddr & ~0xFFFu, s_hi = s->vaddr + s->memsz;

	for (int i = 0; i < img->nsegs; i++) {
		const elf_segment_t *o = &img->segs[i];
		uint32_t o_lo = o->vaddr & ~0xFFFu, o_hi = o->vaddr + o->memsz;
		/* page granular, because the loader maps whole pages */
		if (s_lo < ((o_hi + 0xFFF) & ~0xFFFu) &&
		    o_lo < ((s_hi + 0xFFF) & ~0xFFFu))
			return 1;
	}
	return 0;
}

int
elf_parse(const void *img, uint32_t size, uint32_t lo, uint32_t hi,
	  elf_image_t *out)
{
	const elf_ehdr_t *h = img;
	int r = check_header(h, size);
	if (r < 0)
		return r;

	memset(out, 0, sizeof(*out));
	int entry_ok = 0;
	for (int i = 0; i < h->phnum; i++) {
		elf_phdr_t ph;
		memcpy(&ph, (const uint8_t *)img + h->phoff + i * sizeof(ph),
		       sizeof(ph));
		if (ph.type != PT_LOAD)
			continue;
		if (out->nsegs == ELF_MAX_SEGMENTS ||
		    check_segment(&ph, size, lo, hi) < 0)
			return QS_ENOEXEC;
		elf_segment_t s = { ph.vaddr, ph.memsz, ph.offset, ph.filesz,
				    (ph.flags & PF_W) != 0 };
		if (overlaps(out, &s))
			return QS_ENOEXEC;
		out->segs[out->nsegs++] = s;
		if (h->entry >= s.vaddr && h->entry - s.vaddr < s.memsz)
			entry_ok = 1;
		if (s.vaddr + s.memsz > out->end)
			out->end = s.vaddr + s.memsz;
	}
	if (out->nsegs == 0 || !entry_ok)
		return QS_ENOEXEC;
	out->entry = h->entry;
	return 0;
}
