/*
 * switch_context(uint32_t *save_esp, uint32_t new_esp): saves the callee-saved
 * registers on the current kernel stack, stores its esp, and resumes the
 * thread whose stack is new_esp. A new thread's stack is built to "resume"
 * into thread_entry, which leaves through trap_return into user mode.
 */
	.text
	.global switch_context
switch_context:
	mov 4(%esp), %eax
	mov 8(%esp), %edx
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov %esp, (%eax)
	mov %edx, %esp
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

	.global thread_entry
thread_entry:
	call sched_reap
	jmp trap_return
