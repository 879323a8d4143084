/*
 * Device grants: init hands a user-level driver the I/O ports, device memory,
 * DMA pages and IRQ line it needs, and nothing else. An IRQ a process owns is
 * masked when it fires and unmasked when the driver waits again, so a level
 * triggered device cannot storm the CPU while its driver is busy.
 */
#include "kernel.h"
#include "cpu.h"
#include "heap.h"
#include "pmm.h"
#include "proc.h"
#include "vmm.h"

#define IO_PORTS 65536
#define NIRQ 16

static struct {
	int owner; /* pid, 0 if none */
	uint32_t pending;
	wq_t waiters;
} irqs[NIRQ];

static bool
irq_grantable(uint32_t irq)
{
	/* the timer, the cascade and the console stay with the kernel */
	return irq < NIRQ && irq != 0 && irq != 2 && irq != 4;
}

/* Device memory may be granted; RAM the kernel manages may not. */
static bool
mmio_grantable(uint32_t base, uint32_t len)
{
	uint64_t end = (uint64_t)base + len;
	if (len == 0 || end > 0x100000000ull)
		return false;
	if (base >= 0xA0000 && end <= 0x100000)
		return true; /* legacy VGA and option ROM hole */
	return base >= KERNEL_SPACE_END;
}

/* Ports the kernel drives, or that would reach beyond one device. */
static const struct {
	uint32_t base, len;
} kernel_ports[] = {
	{ 0x20, 2 },   /* the master PIC */
	{ 0x40, 4 },   /* the PIT */
	{ 0xA0, 2 },   /* the slave PIC */
	{ 0x3F8, 8 },  /* COM1, the console */
	{ 0xCF8, 8 },  /* PCI configuration: every device's (SYS_PCI_READ) */
	{ 0x510, 12 }, /* fw_cfg, with its DMA registers: the node's identity
			  and the cluster key (SYS_NET_KEY) */
};

static int
grant_io(proc_t *p, uint32_t base, uint32_t len)
{
	if (len == 0 || base >= IO_PORTS || len > IO_PORTS - base)
		return QS_EINVAL;
	for (uint32_t i = 0; i < ARRAY_LEN(kernel_ports); i++)
		if (base < kernel_ports[i].base + kernel_ports[i].len &&
		    kernel_ports[i].base < base + len)
			return QS_EINVAL;
	if (!p->io_bitmap) {
		p->io_bitmap = kmalloc(IO_PORTS / 8);
		if (!p->io_bitmap)
			return QS_ENOMEM;
		memset(p->io_bitmap, 0xFF, IO_PORTS / 8);
	}
	for (uint32_t port = base; port < base + len; port++)
		p->io_bitmap[port / 8] &= ~(1u << (port % 8));
	tss_set_io_bitmap(NULL);
	return 0;
}

/*
 * The driver of device `id` (vendor << 16 | device) may read its
 * configuration, and the device may master the bus (SeaBIOS leaves that
 * off, and QEMU then drops its DMA: the e1000's rings) until the driver's
 * grants go.
 */
static int
grant_pci_device(proc_t *p, uint32_t id)
{
	int bdf = pci_find(id >> 16, id & 0xFFFF);
	if (bdf < 0)
		return QS_ENOENT;
	for (int i = 0; i < p->npci; i++)
		if (p->pci[i].id == id)
			return 0; /* another BAR of the same device */
	if (p->npci == MAX_PCI_GRANTS)
		return QS_ENOMEM;
	p->pci[p->npci].id = id;
	p->pci[p->npci++].bdf = (uint32_t)bdf;
	pci_master((uint32_t)bdf, true);
	return 0;
}

/* SYS_PCI_READ: a configuration dword of a device the caller drives. */
int
grant_pci_read(uint32_t id, uint32_t reg, uint32_t user_out)
{
	proc_t *p = current->proc;
	if (reg > 0xFC || reg % 4)
		return QS_EINVAL;
	for (int i = 0; i < p->npci; i++) {
		if (p->pci[i].id == id) {
			uint32_t v = pci_config(p->pci[i].bdf, reg);
			return copy_to_user(user_out, &v, sizeof(v));
		}
	}
	return authority_refuse(p, QS_EPERM);
}

int
grant_give(int pid, int kind, uint32_t base, uint32_t len)
{
	if (current->proc->pid != INIT_PID)
		return authority_refuse(current->proc, QS_EPERM);
	proc_t *p = proc_find(pid);
	if (!p || p->state == QS_PROC_ZOMBIE)
		return QS_ENOENT;
	if (kind == QS_GRANT_RIGHTS || kind == QS_GRANT_NAME ||
	    kind == QS_GRANT_LIMIT)
		return authority_grant(p, kind, base, len);
	p->system = true; /* a driver */
	switch (kind) {
	case QS_GRANT_IO:
		return grant_io(p, base, len);
	case QS_GRANT_PCI: {
		uint32_t id = base;
		int r = pci_bar(id >> 16, id & 0xFFFF, len, &base, &len);
		if (r == 0)
			r = grant_pci_device(p, id);
		if (r < 0)
			return r;
		return grant_give(pid, QS_GRANT_MMIO, base, len);
	}
	case QS_GRANT_MMIO:
		if (!mmio_grantable(base, len))
			return QS_EINVAL;
		if (p->nmmio == MAX_MMIO_GRANTS)
			return QS_ENOMEM;
		p->mmio[p->nmmio].base = base;
		p->mmio[p->nmmio++].len = len;
		return 0;
	case QS_GRANT_DMA:
		if (len == 0 || len > 1024)
			return QS_EINVAL;
		p->dma_quota += len;
		return 0;
	case QS_GRANT_IRQ:
		if (!irq_grantable(base))
			return QS_EINVAL;
		if (irqs[base].owner && irqs[base].owner != pid)
			return QS_EBUSY;
		irqs[base].owner = pid;
		irqs[base].pending = 0;
		list_init(&irqs[base].waiters.waiters);
		return 0;
	}
	return QS_EINVAL;
}

int
grant_mmio_map(uint32_t phys, uint32_t len)
{
	proc_t *p = current->proc;
	uint32_t lo = PAGE_ROUND_DOWN(phys);
	uint64_t hi = ((uint64_t)phys + len + PAGE_SIZE - 1) & ~(uint64_t)0xFFF;

	if (len == 0 || hi > 0x100000000ull)
		return QS_EINVAL;
	bool granted = false;
	for (int i = 0; i < p->nmmio; i++)
		if (phys >= p->mmio[i].base &&
		    (uint64_t)phys + len <= (uint64_t)p->mmio[i].base + p->mmio[i].len)
			granted = true;
	if (!granted)
		return QS_EPERM;
	if (hi - lo > QS_USER_TOP - p->mmio_next)
		return QS_ENOMEM;
	uint32_t va = p->mmio_next;
	for (uint32_t off = 0; off < hi - lo; off += PAGE_SIZE) {
		int r = vmm_map(p->pd, va + off, lo + off,
				PTE_U | PTE_W | PTE_PCD | PTE_PWT | PTE_DEVICE,
				&p->pages);
		if (r < 0) {
			vmm_free_range(p->pd, va, off, &p->pages);
			return r;
		}
	}
	p->mmio_next += hi - lo;
	return (int)(va + (phys - lo));
}

int
grant_dma_alloc(uint32_t pages, uint32_t user_phys)
{
	proc_t *p = current->proc;

	if (pages == 0 || pages > p->dma_quota - p->dma_used)
		return pages == 0 ? QS_EINVAL : QS_EPERM;
	if (!user_ok(user_phys, 4, true))
		return QS_EFAULT;
	if (pages * PAGE_SIZE > USER_MMIO_BASE - p->dma_next)
		return QS_ENOMEM;
	uint32_t pa = pmm_alloc_contig(pages);
	if (!pa)
		return QS_ENOMEM;
	uint32_t va = p->dma_next;
	for (uint32_t i = 0; i < pages; i++) {
		memset((void *)(pa + i * PAGE_SIZE), 0, PAGE_SIZE);
		int r = vmm_map(p->pd, va + i * PAGE_SIZE, pa + i * PAGE_SIZE,
				PTE_U | PTE_W, &p->pages);
		if (r < 0) {
			vmm_free_range(p->pd, va, i * PAGE_SIZE, &p->pages);
			pmm_free_contig(pa + i * PAGE_SIZE, pages - i);
			return r;
		}
	}
	p->dma_next += pages * PAGE_SIZE;
	p->dma_used += pages;
	copy_to_user(user_phys, &pa, 4);
	return (int)va;
}

int
grant_irq_wait(int irq, int32_t timeout_ms)
{
	if (irq < 0 || irq >= NIRQ || irqs[irq].owner != current->proc->pid)
		return QS_EPERM;
	while (irqs[irq].pending == 0) {
		pic_mask(irq, 0);
		if (sched_block(&irqs[irq].waiters, timeout_ms) == QS_ETIMEDOUT &&
		    irqs[irq].pending == 0)
			return QS_ETIMEDOUT;
	}
	int n = (int)irqs[irq].pending;
	irqs[irq].pending = 0;
	return n;
}

bool
grant_irq(int irq)
{
	if (irq >= NIRQ || !irqs[irq].owner)
		return false;
	pic_mask(irq, 1);
	irqs[irq].pending++;
	sched_wake_all(&irqs[irq].waiters);
	return true;
}

/*
 * A driver's grants go with it (it ended, or was killed): its devices stop
 * mastering the bus first, so that none writes into its DMA pages once
 * they are freed and reused.
 */
void
grant_release(proc_t *p)
{
	for (int i = 0; i < p->npci; i++) {
		pci_master(p->pci[i].bdf, false);
		klog("pid %d (%s): device %04x:%04x %s", p->pid, p->name,
		     p->pci[i].id >> 16, p->pci[i].id & 0xFFFF,
		     pci_is_master(p->pci[i].bdf) ? "still masters the bus!"
						  : "no longer masters the bus");
	}
	p->npci = 0;
	for (int i = 0; i < NIRQ; i++) {
		if (irqs[i].owner == p->pid) {
			pic_mask(i, 1);
			irqs[i].owner = 0;
		}
	}
	if (p->io_bitmap) {
		tss_set_io_bitmap(NULL);
		kfree(p->io_bitmap);
		p->io_bitmap = NULL;
	}
}
