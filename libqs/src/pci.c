/* PCI configuration space for user-level drivers (qs/pci.h). */
#include <stdbool.h>
#include <qs/abi.h>
#include <qs/sys.h>
#include <qs/pci.h>

#define PCI_BAR0 0x10
#define BAR_IO 0x1
#define BAR_TYPE_64 0x4 /* bits 1-2 of a memory BAR: 2, a 64-bit BAR */
#define BAR_FLAGS 0xF

static int
read_reg(pci_dev_t d, uint32_t off, uint32_t *v)
{
	return qs_syscall(SYS_PCI_READ, d.id, off, (uint32_t)(uintptr_t)v, 0, 0);
}

uint32_t
pci_read(pci_dev_t d, uint32_t off)
{
	uint32_t v;
	return read_reg(d, off, &v) < 0 ? 0xFFFFFFFFu : v;
}

int
pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out)
{
	pci_dev_t d = { (uint32_t)vendor << 16 | device };
	uint32_t id;
	int r = read_reg(d, 0, &id);
	if (r < 0)
		return r;
	*out = d;
	return 0;
}

int
pci_bar_base(pci_dev_t d, int bar, uint32_t *base)
{
	if (bar < 0 || bar > 5)
		return QS_EINVAL;
	uint32_t off = PCI_BAR0 + 4 * (uint32_t)bar;
	uint32_t lo = pci_read(d, off);
	bool is64 = (lo & 0x6) == BAR_TYPE_64;
	if ((lo & BAR_IO) || (is64 && (bar == 5 || pci_read(d, off + 4) != 0)))
		return QS_EINVAL;
	*base = lo & ~(uint32_t)BAR_FLAGS;
	return *base ? 0 : QS_EINVAL;
}
