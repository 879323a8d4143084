/*
 * lwIP's compiler and platform glue (see lwip/arch.h). The same header
 * serves the guest (libqs's freestanding libc) and the host unit tests,
 * which build lwIP against libqs's headers too.
 */
#ifndef QS_LWIP_ARCH_CC_H
#define QS_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/*
 * The compiler's own stdint.h, limits.h and stddef.h are all we have;
 * there is no inttypes.h, so the format strings lwIP's diagnostics use
 * are spelled out for i386 (and x86-64 hosts: u32_t is unsigned int on
 * both, size_t differs, hence %zu).
 */
#define LWIP_NO_INTTYPES_H 1
#define X8_F "02x"
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN
/* One instruction each instead of def.c's shifts and masks. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16(x))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32(x))

/*
 * lwIP runs in a user process (the CM), never in the kernel: a failed
 * assertion prints where and ends that process through abort(), which is
 * as clean as the end of any other process (its transactions abort, its
 * queues go away); it cannot take the node down.
 */
void qs_lwip_assert(const char *msg, const char *file, int line)
	__attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) qs_lwip_assert((x), __FILE__, __LINE__)

#endif
