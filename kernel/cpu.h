/* Segments, the TSS, the IDT and the register frame every trap saves. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H


#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B /* RPL 3 */
#define SEL_UDATA 0x23
#define SEL_TSS 0x28

#define IRQ_BASE 32
#define TRAP_SYSCALL 0x80
#define EFLAGS_IF 0x200

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Pushed by isr.S; the layout must match the push order there. */
typedef struct trap_frame {
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
	uint32_t trapno, err;
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss; /* only present when coming from ring 3 */
} trap_frame_t;

void gdt_init(void);
void tss_set_kernel_stack(uint32_t esp0);
/* Copies a process's I/O permission bitmap into the TSS, or denies all. */
void tss_set_io_bitmap(const uint8_t *bitmap);

void idt_init(void);
void trap_return(void); /* isr.S: pops a trap_frame_t and irets */

void pic_init(void);
void pic_mask(int irq, int masked);
void pic_eoi(int irq);

void timer_init(uint32_t hz);
uint64_t timer_ticks(void);
uint32_t timer_ms(void);

#define TIMER_HZ 100

#endif /* __ASSEMBLER__ */
#endif
