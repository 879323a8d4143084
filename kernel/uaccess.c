/*
 * Every pointer a process hands the kernel is checked against the current
 * address space's page tables before it is used, so a bad one is an error
 * return and never a kernel fault. copy_to_space writes into another
 * address space, page by page through the kernel's identity map of its
 * frames, each checked as it goes: the IPC fast path's one copy.
 */
#include "kernel.h"
#include "proc.h"
#include "vmm.h"

bool
user_ok(uint32_t va, uint32_t len, bool write)
{
	uint32_t pd = current->proc->pd;
	if (len && vmm_one_user_page(va, len)) /* most are: one look */
		return vmm_user_pte(pd, va, write) != 0;
	return vmm_user_ok(pd, va, len, write);
}

int
copy_from_user(void *dst, uint32_t src, uint32_t len)
{
	if (!user_ok(src, len, false))
		return QS_EFAULT;
	memcpy(dst, (const void *)src, len);
	return 0;
}

int
copy_to_user(uint32_t dst, const void *src, uint32_t len)
{
	if (!user_ok(dst, len, true))
		return QS_EFAULT;
	memcpy((void *)dst, src, len);
	return 0;
}

int
copy_to_space(uint32_t pd, uint32_t dst, const void *src, uint32_t len)
{
	/* its own space: through its mappings, which may hold frames the
	   identity map does not reach (device memory, persistent memory) */
	if (pd == current->proc->pd)
		return copy_to_user(dst, src, len);
	const uint8_t *s = src;
	while (len) {
		uint32_t frame = vmm_user_frame(pd, dst, true);
		if (!frame)
			return QS_EFAULT;
		uint32_t off = dst & (PAGE_SIZE - 1);
		uint32_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		memcpy((void *)(frame + off), s, n);
		s += n;
		dst += n;
		len -= n;
	}
	return 0;
}

/* Copies a NUL-terminated string of at most max-1 characters. */
int
copy_str_from_user(char *dst, uint32_t src, uint32_t max)
{
	for (uint32_t i = 0; i < max; i++) {
		if ((i == 0 || ((src + i) & 0xFFF) == 0) && !user_ok(src + i, 1, false))
			return QS_EFAULT;
		dst[i] = *(const char *)(src + i);
		if (dst[i] == 0)
			return (int)i;
	}
	return QS_E2BIG;
}
