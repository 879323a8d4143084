/* Validation of i386 ELF executables, kept pure for the host unit tests. */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stdint.h>

#define ELF_MAX_SEGMENTS 8
#define EI_NIDENT 16

/* The file's own headers, as the ELF specification lays them out. */
typedef struct {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} elf_ehdr_t;

typedef struct {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} elf_phdr_t;


typedef struct {
	uint32_t vaddr, memsz; /* where it goes and how big */
	uint32_t offset, filesz; /* what of the file it holds */
	uint32_t writable;
} elf_segment_t;

typedef struct {
	uint32_t entry;
	uint32_t end; /* highest address of any segment: the heap starts above */
	int nsegs;
	elf_segment_t segs[ELF_MAX_SEGMENTS];
} elf_image_t;

/*
 * Checks that img[0..size) is a loadable 32-bit x86 executable whose
 * segments lie in [lo, hi) and fill in out. Returns 0 or QS_ENOEXEC.
 */
int elf_parse(const void *img, uint32_t size, uint32_t lo, uint32_t hi,
	      elf_image_t *out);

#endif
