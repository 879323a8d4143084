/* Syscall wrappers: the whole kernel interface a program sees through libqs. */
#ifndef QS_SYS_H
#define QS_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <qs/abi.h>

int qs_syscall(int num, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
	       uint32_t e);

void qs_exit(int status) __attribute__((noreturn));
/* argv is NULL-terminated and excludes the program name. */
int qs_spawn(const char *name, const char *const *argv, uint32_t flags);
/* ... passing on some of the caller's own rights (QS_RIGHT_*): QS_EPERM if
 * it does not hold them all. */
int qs_spawn_rights(const char *name, const char *const *argv, uint32_t flags,
		    uint32_t rights);
int qs_waitpid(int pid, int *status, uint32_t flags);
int qs_kill(int pid);
int qs_resume(int pid);
int qs_getpid(void);
int qs_gettid(void);
int qs_yield(void);
int qs_sleep(uint32_t ms);
uint32_t qs_uptime_ms(void);
int qs_set_priority(int tid, int priority);
int qs_cons_write(const void *buf, size_t len);
/* Waits for input up to timeout_ms (-1: for ever); QS_ETIMEDOUT if none. */
int qs_cons_read(void *buf, size_t len, int32_t timeout_ms);
int qs_proc_list(qs_proc_info_t *buf, int max);
int qs_mem_info(qs_mem_info_t *info);
int qs_node_info(qs_node_info_t *info);
/* Powers the node off; returns only QS_EPERM (no QS_RIGHT_HALT). */
int qs_halt(void);
/* A process's (0: one's own) limits, what it uses of them, its rights. */
int qs_limits(int pid, qs_limits_t *out);
/* The pid a queue name is reserved for (init's config), or QS_ENOENT. */
int qs_name_holder(const char *name);
/* The cluster key, for the CM only (SYS_NET_KEY). */
int qs_net_key(uint8_t key[QS_NET_KEY_LEN]);
int qs_boot_arg(const char *key, char *buf, size_t len);
int qs_module_read(const char *name, uint32_t offset, void *buf, size_t len);
int qs_futex_wait(volatile uint32_t *addr, uint32_t expected, int32_t timeout_ms);
int qs_futex_wake(volatile uint32_t *addr, uint32_t count);

/* Grants (devices, rights, names, limits): qs_grant is init's; the rest
 * are the driver's side. */
int qs_grant(int pid, int kind, uint32_t base, uint32_t len);
void *qs_mmio_map(uint32_t phys, uint32_t len);   /* NULL on error */
void *qs_dma_alloc(uint32_t pages, uint32_t *phys); /* NULL on error */
int qs_irq_wait(int irq, int32_t timeout_ms);

const char *qs_strerror(int err);

/* Rights and limits by name, as configs and the shell write them: bit i of
 * QS_RIGHT_* is qs_right_name(i) (NULL past the last); qs_right_parse takes
 * a comma-separated list ("halt,prio"). */
const char *qs_right_name(int bit);
int qs_right_parse(const char *list, uint32_t *out);
const char *qs_limit_name(int kind);  /* QS_LIMIT_* */
int qs_limit_parse(const char *name); /* QS_LIMIT_* or QS_EINVAL */

#endif
