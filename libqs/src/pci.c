/* PCI configuration space for user-level drivers (qs/pci.h). */
#include <stdbool.h>
#include <qs/abi.h>
#include <qs/cpu.h>
#include <qs/pci.h>

#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC
#define PCI_ENABLE 0x80000000u
#define PCI_ID 0x00
#define PCI_HEADER_TYPE 0x0C /* the byte at 0x0E, in the dword at 0x0C */
#define PCI_MULTIFUNCTION 0x00800000u
#define BAR_IO 0x1
#define BAR_TYPE_64 0x4 /* bits 1-2 of a memory BAR: 2, a 64-bit BAR */
#define BAR_FLAGS 0xF

static uint32_t
pci_addr(pci_dev_t d, uint32_t off)
{
	return PCI_ENABLE | (uint32_t)d.bus << 16 | (uint32_t)d.dev << 11 |
	       (uint32_t)d.fn << 8 | (off & 0xFC);
}

uint32_t
pci_read(pci_dev_t d, uint32_t off)
{
	qs_outl(PCI_ADDR, pci_addr(d, off));
	return qs_inl(PCI_DATA);
}

void
pci_write(pci_dev_t d, uint32_t off, uint32_t v)
{
	qs_outl(PCI_ADDR, pci_addr(d, off));
	qs_outl(PCI_DATA, v);
}

int
pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out)
{
	uint32_t id = (uint32_t)device << 16 | vendor;
	for (int b = 0; b < 256; b++) {
		for (int s = 0; s < 32; s++) {
			pci_dev_t d = { (uint8_t)b, (uint8_t)s, 0 };
			if ((pci_read(d, PCI_ID) & 0xFFFF) == 0xFFFF)
				continue; /* nothing in this slot */
			bool multi = pci_read(d, PCI_HEADER_TYPE) & PCI_MULTIFUNCTION;
			for (d.fn = 0; d.fn < (multi ? 8 : 1); d.fn++) {
				if (pci_read(d, PCI_ID) == id) {
					*out = d;
					return 0;
				}
			}
		}
	}
	return QS_ENOENT;
}

/* Writes all ones to a BAR dword and returns what reads back; restores it. */
static uint32_t
size_mask(pci_dev_t d, uint32_t off)
{
	uint32_t old = pci_read(d, off);
	pci_write(d, off, 0xFFFFFFFFu);
	uint32_t mask = pci_read(d, off);
	pci_write(d, off, old);
	return mask;
}

int
pci_bar_mem(pci_dev_t d, int bar, uint64_t *base, uint64_t *size)
{
	if (bar < 0 || bar > 5)
		return QS_EINVAL;
	uint32_t off = PCI_BAR0 + 4 * (uint32_t)bar;
	uint32_t lo = pci_read(d, off);
	bool is64 = (lo & 0x6) == BAR_TYPE_64;
	if ((lo & BAR_IO) || (is64 && bar == 5))
		return QS_EINVAL;
	uint32_t hi = is64 ? pci_read(d, off + 4) : 0;
	/* Only the low half: the status half's bits are cleared by writing ones. */
	uint32_t cmd = pci_read(d, PCI_COMMAND) & 0xFFFF;
	pci_write(d, PCI_COMMAND, cmd & ~(uint32_t)(PCI_CMD_IO | PCI_CMD_MEMORY));
	uint64_t mask = (uint64_t)(is64 ? size_mask(d, off + 4) : 0xFFFFFFFFu) << 32 |
			(size_mask(d, off) & ~(uint32_t)BAR_FLAGS);
	pci_write(d, PCI_COMMAND, cmd | PCI_CMD_MEMORY);
	*base = (uint64_t)hi << 32 | (lo & ~(uint32_t)BAR_FLAGS);
	*size = ~mask + 1;
	return *base && *size ? 0 : QS_EINVAL;
}
