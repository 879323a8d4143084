/*
 * The IDT and the C entry point for every trap but the syscall's
 * (syscall_trap): exceptions (a user fault kills the process, a kernel
 * fault panics) and IRQs. On the way out, the tick may ask for a switch.
 */
#include "kernel.h"
#include "console.h"
#include "cpu.h"
#include "proc.h"
#include "syscall.h"
#include "x86.h"

extern uint32_t vec_table[];
extern void vec128(void);
void timer_tick(void);

static uint64_t idt[256];

static uint64_t
gate(uint32_t handler, uint8_t dpl)
{
	uint64_t g = handler & 0xFFFF;
	g |= (uint64_t)SEL_KCODE << 16;
	g |= (uint64_t)(0x8E | (dpl << 5)) << 40; /* present 32-bit interrupt gate */
	g |= (uint64_t)(handler >> 16) << 48;
	return g;
}

void
idt_init(void)
{
	for (int i = 0; i < 48; i++)
		idt[i] = gate(vec_table[i], 0);
	idt[TRAP_SYSCALL] = gate((uint32_t)vec128, 3);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = { sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/*
 * The syscall a user thread was in when the kernel faulted, or NULL: the
 * frame it entered the kernel with is at the top of its kernel stack.
 */
static const char *
fault_syscall(void)
{
	if (!current || !current->proc)
		return NULL;
	uint32_t top = current->kstack + KSTACK_PAGES * PAGE_SIZE;
	return syscall_name((const trap_frame_t *)top - 1);
}

static void __attribute__((noreturn))
kernel_fault(trap_frame_t *f)
{
	const char *sys = fault_syscall();
	panic("kernel trap %u (error %#x) at eip %#010x cr2 %#010x\n"
	      "  eax %08x ebx %08x ecx %08x edx %08x\n"
	      "  esi %08x edi %08x ebp %08x esp %08x\n"
	      "  %s%s\n"
	      "  cs %04x ds %04x eflags %08x thread %d",
	      f->trapno, f->err, f->eip, read_cr2(), f->eax, f->ebx, f->ecx,
	      f->edx, f->esi, f->edi, f->ebp, (uint32_t)(f + 1) - 8,
	      sys ? "in syscall " : "not in a syscall", sys ? sys : "", f->cs,
	      f->ds, f->eflags, current ? current->tid : -1);
}

static void
irq_dispatch(int irq)
{
	/* a spurious IRQ 7 or 15 has no in-service bit and wants no EOI */
	if (irq == 7 || irq == 15) {
		qs_outb(irq == 7 ? 0x20 : 0xA0, 0x0B);
		if (!(qs_inb(irq == 7 ? 0x20 : 0xA0) & 0x80)) {
			if (irq == 15)
				pic_eoi(0);
			return;
		}
	}
	switch (irq) {
	case 0:
		timer_tick();
		sched_tick();
		break;
	case 4:
		serial_irq();
		break;
	default:
		if (!grant_irq(irq)) {
			klog("unexpected IRQ %d: masked", irq);
			pic_mask(irq, 1);
		}
	}
	pic_eoi(irq);
}

void
trap_dispatch(trap_frame_t *f)
{
	if (f->trapno < IRQ_BASE) {
		if ((f->cs & 3) == 0)
			kernel_fault(f);
		proc_fault(f);
	} else if (f->trapno < IRQ_BASE + 16) {
		sched_idle_end();
		irq_dispatch((int)f->trapno - IRQ_BASE);
	}
	if (sched_need_resched())
		sched_yield();
}
