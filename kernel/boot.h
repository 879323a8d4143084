/* What the kernel learns at boot: Multiboot modules and boot arguments. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <stdint.h>

typedef struct {
	char name[QS_NAME_MAX];
	uint32_t start, size; /* physical, identity mapped */
} module_t;

void multiboot_init(uint32_t magic, uint32_t info);
const module_t *module_find(const char *name);
int module_read(const char *name, uint32_t offset, uint32_t user_buf,
		uint32_t len);

/* fw_cfg "opt/qs/KEY" from the host tool, else KEY=VALUE on the command line */
int boot_arg(const char *key, char *buf, uint32_t len);
/* This node's id (boot argument "node"), read once. */
extern int32_t boot_node;
uint32_t boot_node_id_read(void);
static inline uint32_t
boot_node_id(void)
{
	return boot_node >= 0 ? (uint32_t)boot_node : boot_node_id_read();
}
uint32_t boot_incarnation(void);
void fwcfg_init(void);
int fwcfg_read_file(const char *name, char *buf, uint32_t len);

#endif
