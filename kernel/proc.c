/*
 * Processes: spawning from a Multiboot module, exit and kill, zombies that
 * keep only an exit status until the parent waits, and user threads.
 */
#include "kernel.h"
#include "boot.h"
#include "elf.h"
#include "heap.h"
#include "pmm.h"
#include "proc.h"
#include "tx.h"
#include "vmm.h"
#include "x86.h"

static list_t procs = LIST_INIT(procs);
static int next_pid = INIT_PID;

proc_t *
proc_find(int pid)
{
	for (list_t *l = procs.next; l != &procs; l = l->next) {
		proc_t *p = list_entry(l, proc_t, link);
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

proc_t *
proc_search(bool (*fn)(proc_t *p, uint64_t arg), uint64_t arg)
{
	for (list_t *l = procs.next; l != &procs; l = l->next) {
		proc_t *p = list_entry(l, proc_t, link);
		if (p->state != QS_PROC_ZOMBIE && fn(p, arg))
			return p;
	}
	return NULL;
}

void
proc_enter(proc_t *p)
{
	vmm_switch(p->pd);
	tss_set_io_bitmap(p->io_bitmap);
}

static int
load_segments(proc_t *p, const module_t *m, const elf_image_t *img)
{
	for (int i = 0; i < img->nsegs; i++) {
		const elf_segment_t *s = &img->segs[i];
		uint32_t lo = PAGE_ROUND_DOWN(s->vaddr);
		uint32_t hi = PAGE_ROUND_UP(s->vaddr + s->memsz);
		uint32_t flags = PTE_U | (s->writable ? PTE_W : 0);
		int r = vmm_alloc_range(p->pd, lo, hi - lo, flags, &p->pages);
		if (r < 0)
			return r;
		/* copy through the identity map: the frames need not be contiguous */
		for (uint32_t done = 0; done < s->filesz;) {
			uint32_t va = s->vaddr + done;
			uint32_t room = PAGE_SIZE - (va & 0xFFF);
			uint32_t n = s->filesz - done < room ? s->filesz - done : room;
			uint32_t pa = (vmm_lookup(p->pd, va) & ~0xFFFu) | (va & 0xFFF);
			memcpy((void *)pa, (const void *)(m->start + s->offset + done), n);
			done += n;
		}
	}
	return 0;
}

/* Writes bytes into p's (not the current) address space. */
static void
poke(proc_t *p, uint32_t va, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	while (len) {
		uint32_t room = PAGE_SIZE - (va & 0xFFF);
		uint32_t n = len < room ? len : room;
		uint32_t pa = (vmm_lookup(p->pd, va) & ~0xFFFu) | (va & 0xFFF);
		memcpy((void *)pa, s, n);
		va += n;
		s += n;
		len -= n;
	}
}

/*
 * The initial stack holds argc, argv[] and the strings (the program name
 * first, then the NUL-separated argument block).
 */
static uint32_t
build_stack(proc_t *p, const char *args, uint32_t arglen)
{
	uint32_t argv[QS_ARGC_MAX + 2];
	int argc = 0;
	uint32_t sp = USER_STACK_TOP;
	uint32_t namelen = strlen(p->name) + 1;

	sp -= arglen + namelen;
	uint32_t strings = sp;
	poke(p, sp, p->name, namelen);
	poke(p, sp + namelen, args, arglen);
	argv[argc++] = strings;
	for (uint32_t i = 0; i < arglen; i++)
		if (i == 0 || args[i - 1] == 0)
			argv[argc++] = strings + namelen + i;
	argv[argc] = 0;
	sp &= ~3u;
	sp -= (argc + 1) * 4;
	uint32_t argv_at = sp;
	poke(p, sp, argv, (argc + 1) * 4);
	uint32_t frame[3] = { 0, (uint32_t)argc, argv_at }; /* ret, argc, argv */
	sp -= sizeof(frame);
	poke(p, sp, frame, sizeof(frame));
	return sp;
}

static proc_t *
proc_new(const char *name, int parent)
{
	proc_t *p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->pd = vmm_new_space();
	if (!p->pd) {
		kfree(p);
		return NULL;
	}
	p->pid = next_pid++;
	p->parent = parent;
	strlcpy(p->name, name, sizeof(p->name));
	list_init(&p->threads);
	list_init(&p->child_exit.waiters);
	p->mmio_next = USER_MMIO_BASE;
	p->dma_next = USER_DMA_BASE;
	list_init(&p->sq_reqs);
	list_init(&p->sq_deferred);
	list_init(&p->sq_done.waiters);
	p->default_tx = tx_new_id();
	authority_init_proc(p);
	if (sq_proc_new(p) < 0) {
		vmm_destroy_space(p->pd, &p->pages);
		kfree(p);
		return NULL;
	}
	return p;
}

/* Frees what is left of a reaped or never started process. */
static void
proc_free(proc_t *p)
{
	sq_proc_free(p);
	kfree(p);
}

/* Frees what proc_new and the loader set up, for a spawn that failed. */
static void
proc_discard(proc_t *p)
{
	vmm_destroy_space(p->pd, &p->pages);
	proc_free(p);
}

int
proc_spawn(const char *name, const char *args, uint32_t arglen, uint32_t flags,
	   int parent, uint32_t rights)
{
	const module_t *m = module_find(name);
	elf_image_t img;
	int r;

	if (!m)
		return QS_ENOENT;
	if (arglen > QS_ARGS_MAX || (arglen && args[arglen - 1] != 0))
		return QS_E2BIG;
	uint32_t argc = 0;
	for (uint32_t i = 0; i < arglen; i++)
		argc += args[i] == 0;
	if (argc > QS_ARGC_MAX)
		return QS_E2BIG;
	r = elf_parse((const void *)m->start, m->size, QS_USER_BASE,
		      USER_HEAP_MAX, &img);
	if (r < 0)
		return r;
	/* its image, its stack, and page tables for each */
	uint32_t pages = USER_STACK_SIZE / PAGE_SIZE + 8;
	for (int i = 0; i < img.nsegs; i++)
		pages += (PAGE_ROUND_UP(img.segs[i].vaddr + img.segs[i].memsz) -
			  PAGE_ROUND_DOWN(img.segs[i].vaddr)) / PAGE_SIZE;
	if (!authority_pages_free(pages))
		return QS_ENOMEM;
	proc_t *p = proc_new(name, parent);
	if (!p)
		return QS_ENOMEM;
	if ((r = job_join(p, proc_find(parent), pages)) < 0) {
		proc_discard(p);
		return r;
	}
	p->rights = rights;
	r = load_segments(p, m, &img);
	if (r == 0)
		r = vmm_alloc_range(p->pd, USER_STACK_TOP - USER_STACK_SIZE,
				    USER_STACK_SIZE, PTE_U | PTE_W, &p->pages);
	thread_t *t = NULL;
	if (r == 0) {
		uint32_t sp = build_stack(p, args, arglen);
		t = thread_new(p, img.entry, sp, QS_PRIO_DEFAULT);
		r = t ? 0 : QS_ENOMEM;
		if (t)
			t->tx = p->default_tx;
	}
	if (r < 0) {
		job_leave(p);
		proc_discard(p);
		return r;
	}
	p->brk_base = p->brk = PAGE_ROUND_UP(img.end);
	list_add_tail(&p->threads, &t->proc_link);
	p->nthreads = 1;
	list_add_tail(&procs, &p->link);
	if (flags & QS_SPAWN_SUSPENDED) {
		p->state = QS_PROC_SUSPENDED;
	} else {
		p->state = QS_PROC_RUNNING;
		sched_ready(t);
	}
	return p->pid;
}

int
proc_resume(int pid)
{
	proc_t *p = proc_find(pid);
	if (!p)
		return QS_ENOENT;
	if (p->parent != current->proc->pid)
		return QS_EPERM;
	if (p->state != QS_PROC_SUSPENDED)
		return QS_EINVAL;
	p->state = QS_PROC_RUNNING;
	for (list_t *l = p->threads.next; l != &p->threads; l = l->next)
		sched_ready(list_entry(l, thread_t, proc_link));
	return 0;
}

/*
 * Orphans go to init, which reaps them. One still suspended dies: only its
 * parent could resume it, so it would hold its memory for ever.
 */
static void
reparent_children(proc_t *dying)
{
	proc_t *init = proc_find(INIT_PID);
	for (list_t *l = procs.next; l != &procs; l = l->next) {
		proc_t *c = list_entry(l, proc_t, link);
		if (c->parent != dying->pid)
			continue;
		c->parent = INIT_PID;
		if (c->state == QS_PROC_SUSPENDED)
			proc_exit(c, QS_STATUS_KILLED);
		if (c->state == QS_PROC_ZOMBIE && init)
			sched_wake_all(&init->child_exit);
	}
}

void
proc_exit(proc_t *p, int status)
{
	bool self = current->proc == p;

	if (p->state == QS_PROC_ZOMBIE)
		return;
	if (p->pid == INIT_PID)
		panic("init ended (status %#x)", status);
	p->exit_status = status;
	sq_proc_exit(p); /* before its threads go: they may hold requests */
	while (!list_empty(&p->threads)) {
		thread_t *t = list_entry(p->threads.next, thread_t, proc_link);
		list_del(&t->proc_link);
		thread_free(t);
	}
	p->nthreads = 0;
	grant_release(p);
	vmm_destroy_space(p->pd, &p->pages);
	kassert(p->pages == 0);
	job_leave(p);
	p->pd = 0;
	p->state = QS_PROC_ZOMBIE;
	p->exit_status = status;
	reparent_children(p);
	proc_t *parent = proc_find(p->parent);
	if (parent)
		sched_wake_all(&parent->child_exit);
	if (self)
		schedule(); /* never returns: the thread is on the dead list */
}

/* Is p `ancestor` or one of its descendants? */
bool
proc_descends(proc_t *p, proc_t *ancestor)
{
	for (int hops = 0; p && hops < 1024; hops++) {
		if (p == ancestor)
			return true;
		if (p->pid == INIT_PID)
			return false;
		p = proc_find(p->parent);
	}
	return false;
}

/* An orphan of self's program: in its job, adopted by init, not its root. */
static bool
job_orphan(const proc_t *self, const proc_t *p)
{
	return p->job == self->job && p->parent == INIT_PID &&
	       p->pid != p->job->id;
}

/*
 * A process may kill itself, its descendants and its program's orphans
 * (its job's processes that init adopted); the right to kill (the shell's)
 * reaches every process that is not a system server, and the right to kill
 * any process every one but init.
 */
static int
may_kill(proc_t *self, proc_t *p)
{
	if (p->pid == INIT_PID)
		return authority_refuse(self, QS_EPERM);
	if (proc_descends(p, self) || job_orphan(self, p) ||
	    (self->rights & QS_RIGHT_KILL_ANY) ||
	    ((self->rights & QS_RIGHT_KILL) && !p->system))
		return 0;
	return authority_refuse(self, QS_EPERM);
}

int
proc_kill(int pid)
{
	proc_t *p = proc_find(pid);
	if (!p || p->state == QS_PROC_ZOMBIE)
		return QS_ENOENT;
	int r = may_kill(current->proc, p);
	if (r < 0)
		return r;
	klog("pid %d (%s) killed by pid %d", p->pid, p->name, current->proc->pid);
	proc_exit(p, QS_STATUS_KILLED);
	return 0;
}

static proc_t *
find_ended_child(int parent, int pid, bool *any)
{
	*any = false;
	for (list_t *l = procs.next; l != &procs; l = l->next) {
		proc_t *c = list_entry(l, proc_t, link);
		if (c->parent != parent || (pid > 0 && c->pid != pid))
			continue;
		*any = true;
		if (c->state == QS_PROC_ZOMBIE)
			return c;
	}
	return NULL;
}

int
proc_wait(int pid, uint32_t user_status, uint32_t flags)
{
	proc_t *self = current->proc;
	bool any;

	if (pid == 0 || pid < -1 || (flags & ~QS_WAIT_NOHANG))
		return QS_EINVAL;
	if (user_status && !user_ok(user_status, 4, true))
		return QS_EFAULT;
	for (;;) {
		proc_t *c = find_ended_child(self->pid, pid, &any);
		if (c) {
			int cpid = c->pid;
			if (user_status)
				copy_to_user(user_status, &c->exit_status, 4);
			list_del(&c->link);
			proc_free(c);
			return cpid;
		}
		if (!any)
			return QS_ECHILD;
		if (flags & QS_WAIT_NOHANG)
			return 0;
		sched_block(&self->child_exit, -1);
	}
}

int
proc_list(uint32_t user_buf, uint32_t max)
{
	uint32_t n = 0;
	if (max > 1024 || !user_ok(user_buf, max * sizeof(qs_proc_info_t), true))
		return QS_EFAULT;
	for (list_t *l = procs.next; l != &procs && n < max; l = l->next, n++) {
		proc_t *p = list_entry(l, proc_t, link);
		qs_proc_info_t info = { p->pid, p->parent, p->state, p->nthreads,
					p->pages, p->ticks, { 0 } };
		strlcpy(info.name, p->name, sizeof(info.name));
		copy_to_user(user_buf + n * sizeof(info), &info, sizeof(info));
	}
	return (int)n;
}

int
proc_sbrk(int32_t incr)
{
	proc_t *p = current->proc;
	uint32_t old = p->brk;
	uint32_t mapped_end = PAGE_ROUND_UP(old);

	if (incr > 0) {
		if ((uint32_t)incr > USER_HEAP_MAX - old)
			return QS_ENOMEM;
		uint32_t end = PAGE_ROUND_UP(old + incr);
		uint32_t more = (end - mapped_end) / PAGE_SIZE;
		/* a page table for each 4 MiB, at most */
		uint32_t tables = more / 1024 + 1;
		if (end > mapped_end) {
			int r = authority_limit(
				p, QS_LIMIT_PAGES, job_held(p->job, QS_LIMIT_PAGES),
				more + tables);
			if (r < 0)
				return r;
			if (!authority_pages_free(more + tables) ||
			    vmm_alloc_range(p->pd, mapped_end, end - mapped_end,
					    PTE_U | PTE_W, &p->pages) < 0)
				return QS_ENOMEM;
		}
	} else if (incr < 0) {
		if ((uint32_t)-incr > old - p->brk_base)
			return QS_EINVAL;
		uint32_t end = PAGE_ROUND_UP(old + incr);
		vmm_free_range(p->pd, end, mapped_end - end, &p->pages);
	}
	p->brk = old + incr;
	return (int)old;
}

static const char *const fault_names[] = {
	[0] = "divide error", [1] = "debug trap", [3] = "breakpoint",
	[4] = "overflow", [5] = "bound range exceeded", [6] = "invalid opcode",
	[7] = "no math coprocessor", [12] = "stack fault",
	[13] = "general protection fault", [14] = "page fault",
	[16] = "x87 floating-point error", [17] = "alignment check",
	[19] = "SIMD floating-point error",
};

void
proc_fault(trap_frame_t *f)
{
	proc_t *p = current->proc;
	const char *name = f->trapno < ARRAY_LEN(fault_names) &&
					   fault_names[f->trapno]
				   ? fault_names[f->trapno]
				   : "exception";
	if (f->trapno == 14)
		klog("pid %d (%s): %s at eip 0x%08x, address 0x%08x (%s %s): killed",
		     p->pid, p->name, name, f->eip, read_cr2(),
		     f->err & 2 ? "write" : "read",
		     f->err & 1 ? "protection" : "not present");
	else
		klog("pid %d (%s): %s at eip 0x%08x, error code %#x: killed",
		     p->pid, p->name, name, f->eip, f->err);
	proc_exit(p, QS_STATUS_FAULT | (int)f->trapno);
}

int
proc_thread_create(uint32_t entry, uint32_t arg, uint32_t stack_top,
		   int priority)
{
	proc_t *p = current->proc;
	uint32_t sp = (stack_top & ~15u) - 8;

	if (priority < QS_PRIO_MIN || priority > QS_PRIO_MAX)
		return QS_EINVAL;
	if (!user_ok(entry, 1, false) || stack_top < 8 || !user_ok(sp, 8, true))
		return QS_EFAULT;
	int r = authority_limit(p, QS_LIMIT_THREADS,
				job_held(p->job, QS_LIMIT_THREADS), 1);
	if (r == 0 && priority > QS_PRIO_SERVER)
		r = authority_need(p, QS_RIGHT_PRIO);
	if (r < 0)
		return r;
	if (!authority_pages_free(KSTACK_PAGES))
		return QS_ENOMEM;
	uint32_t frame[2] = { 0, arg }; /* return address, argument */
	copy_to_user(sp, frame, sizeof(frame));
	thread_t *t = thread_new(p, entry, sp, priority);
	if (!t)
		return QS_ENOMEM;
	t->tx = p->default_tx;
	list_add_tail(&p->threads, &t->proc_link);
	p->nthreads++;
	if (p->state == QS_PROC_RUNNING)
		sched_ready(t);
	return t->tid;
}

void
proc_thread_exit(void)
{
	proc_t *p = current->proc;
	if (p->nthreads == 1)
		proc_exit(p, 0);
	p->nthreads--;
	sq_thread_gone(current);
	thread_free(current);
	schedule();
}
