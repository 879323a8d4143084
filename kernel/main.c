/* Brings the machine up in dependency order and starts init. */
#include "kernel.h"
#include "boot.h"
#include "console.h"
#include "cpu.h"
#include "pmm.h"
#include "proc.h"
#include "vmm.h"

void kmain(uint32_t magic, uint32_t info);

void
kmain(uint32_t magic, uint32_t info)
{
	gdt_init();
	idt_init();
	pic_init();
	serial_init();
	vga_init();
	multiboot_init(magic, info);
	vmm_init();
	fwcfg_init();
	sched_init();
	timer_init(TIMER_HZ);
	klog("Quicksilver kernel: node %u, %u of %u pages free",
	     boot_node_id(), pmm_free_pages(), pmm_total_pages());
	int pid = proc_spawn("init", "", 0, 0, 0, 0);
	if (pid < 0)
		panic("cannot start init: error %d", pid);
	sched_start();
}
