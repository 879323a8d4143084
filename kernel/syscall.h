/*
 * Syscalls go through one table indexed by number (syscall.c). A handler
 * takes the caller's trap frame, decodes its arguments from ebx ecx edx esi
 * edi, checks them, then acts, and returns a value >= 0 or a qs_err_t, which
 * the dispatcher puts in eax. It gets the frame rather than the decoded
 * registers because the service-queue handlers turn their return into an
 * upcall by rewriting it.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "cpu.h"

/* The syscall trap (int 0x80) from isr.S: the handler the number in eax
 * names, its result in eax; then a switch if one is due. */
void syscall_trap(trap_frame_t *f);
/* Names the syscall a user frame asked for, or NULL: for the fault report. */
const char *syscall_name(const trap_frame_t *f);

/* The handlers that live beside their subsystem's state. */
int sys_sq_create(trap_frame_t *f);  /* sq.c */
int sys_sq_destroy(trap_frame_t *f);
int sys_sq_lookup(trap_frame_t *f);
int sys_sq_call(trap_frame_t *f);
int sys_sq_send(trap_frame_t *f);
int sys_sq_wait(trap_frame_t *f);
int sys_sq_list(trap_frame_t *f);
int sys_sq_offer(trap_frame_t *f);   /* sq_server.c */
int sys_sq_reply(trap_frame_t *f);
int sys_sq_defer(trap_frame_t *f);
int sys_sq_answer(trap_frame_t *f);
int sys_sq_proxy(trap_frame_t *f);   /* sq_net.c */
int sys_sq_inject(trap_frame_t *f);
int sys_tx_get(trap_frame_t *f);     /* tx.c */
int sys_tx_set(trap_frame_t *f);
int sys_tx_begin(trap_frame_t *f);
int sys_tx_owner(trap_frame_t *f);
int sys_tx_end(trap_frame_t *f);
int sys_tx_alive(trap_frame_t *f);
int sys_sq_admit(trap_frame_t *f);   /* sq_server.c */
int sys_limits(trap_frame_t *f);     /* authority.c */
int sys_name_holder(trap_frame_t *f);
int sys_net_key(trap_frame_t *f);

#endif
