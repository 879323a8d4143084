/*
 * Every pointer a process hands the kernel is checked against the current
 * address space's page tables before it is used, so a bad one is an error
 * return and never a kernel fault.
 */
#include "kernel.h"
#include "proc.h"
#include "vmm.h"

bool
user_ok(uint32_t va, uint32_t len, bool write)
{
	return vmm_user_ok(current->proc->pd, va, len, write);
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
