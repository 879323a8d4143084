/* Unit tests for the kernel's ELF validation (kernel/elf.c). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "../../kernel/elf.h"
#include <qs/abi.h>

#define LO 0x40000000u
#define HI 0xB0000000u

static union {
	uint8_t bytes[16384];
	elf_ehdr_t eh;
} img;

static elf_phdr_t *
ph(int i)
{
	return (elf_phdr_t *)(img.bytes + sizeof(elf_ehdr_t) + i * sizeof(elf_phdr_t));
}

/* A valid two-segment executable: text at LO, data one page above. */
static void
make_valid(void)
{
	static const uint8_t ident[] = { 0x7F, 'E', 'L', 'F', 1, 1, 1 };
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.ident, ident, sizeof(ident));
	img.eh.type = 2;
	img.eh.machine = 3;
	img.eh.version = 1;
	img.eh.entry = LO + 0x100;
	img.eh.phoff = sizeof(elf_ehdr_t);
	img.eh.phentsize = sizeof(elf_phdr_t);
	img.eh.phnum = 2;
	*ph(0) = (elf_phdr_t){ 1, 0, LO, LO, 0x2000, 0x2000, 5, 0x1000 };
	*ph(1) = (elf_phdr_t){ 1, 0x2000, LO + 0x2000, 0, 0x100, 0x3000, 6, 0x1000 };
}

static int
parse(void)
{
	elf_image_t out;
	return elf_parse(img.bytes, sizeof(img.bytes), LO, HI, &out);
}

static void
test_valid_image(void)
{
	elf_image_t out;
	make_valid();
	CHECK(elf_parse(img.bytes, sizeof(img.bytes), LO, HI, &out) == 0);
	CHECK(out.entry == LO + 0x100);
	CHECK(out.nsegs == 2);
	CHECK(out.segs[0].writable == 0 && out.segs[1].writable == 1);
	CHECK(out.segs[1].filesz == 0x100 && out.segs[1].memsz == 0x3000);
	CHECK(out.end == LO + 0x5000);
}

static void
test_bad_headers(void)
{
	make_valid();
	img.eh.ident[1] = 'X';
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.ident[4] = 2; /* 64-bit */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.machine = 62; /* x86-64 */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.type = 3; /* shared object */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.phentsize = 16;
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.phnum = 0;
	CHECK(parse() == QS_ENOEXEC);
	elf_image_t out;
	make_valid();
	CHECK(elf_parse(img.bytes, 20, LO, HI, &out) == QS_ENOEXEC);
}

static void
test_program_headers_out_of_file(void)
{
	make_valid();
	img.eh.phoff = sizeof(img.bytes) - 8;
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.phoff = 0xFFFFFFF0u;
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	img.eh.phnum = 0xFFFF;
	CHECK(parse() == QS_ENOEXEC);
}

static void
test_segment_bounds(void)
{
	make_valid();
	ph(1)->filesz = 0x4000;
	ph(1)->memsz = 0x3000; /* filesz > memsz */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->offset = sizeof(img.bytes) - 0x10; /* data runs off the file */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->offset = 0xFFFFFF00u;
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(0)->vaddr = 0x00100000; /* kernel space */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->memsz = 0xFFFFF000u; /* wraps past the end */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->vaddr = HI - 0x1000; /* ends above hi */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->memsz = 0;
	CHECK(parse() == QS_ENOEXEC);
}

static void
test_entry_and_overlap(void)
{
	make_valid();
	img.eh.entry = LO + 0x10000; /* in no segment */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(1)->vaddr = LO + 0x1800; /* shares a page with the text */
	CHECK(parse() == QS_ENOEXEC);
	make_valid();
	ph(0)->type = 4; /* a note: ignored, leaving only data, no entry */
	CHECK(parse() == QS_ENOEXEC);
}

static void
test_too_many_segments(void)
{
	make_valid();
	img.eh.phnum = ELF_MAX_SEGMENTS + 1;
	for (int i = 0; i < ELF_MAX_SEGMENTS + 1; i++)
		*ph(i) = (elf_phdr_t){ 1, 0, LO + i * 0x1000, 0, 0x10, 0x10, 5, 0x1000 };
	img.eh.entry = LO;
	CHECK(parse() == QS_ENOEXEC);
	img.eh.phnum = ELF_MAX_SEGMENTS;
	CHECK(parse() == 0);
}

int
main(void)
{
	RUN(test_valid_image);
	RUN(test_bad_headers);
	RUN(test_program_headers_out_of_file);
	RUN(test_segment_bounds);
	RUN(test_entry_and_overlap);
	RUN(test_too_many_segments);
	return check_summary();
}
