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
#define PCI_BAR0 0x10
#define BAR_IO 0x1
#define BAR_TYPE_64 0x4 /* bits 1-2 of a memory BAR: 2, a 64-bit BAR */
#define BAR_FLAGS 0xF

static uint32_t
read_once(pci_dev_t d, uint32_t off)
{
	qs_outl(PCI_ADDR, PCI_ENABLE | (uint32_t)d.bus << 16 |
			  (uint32_t)d.dev << 11 | (uint32_t)d.fn << 8 | (off & 0xFC));
	return qs_inl(PCI_DATA);
}

/*
 * Another driver (the window manager, the file server) may set the address
 * port between our two accesses, and we would read its register. It would
 * have to do so twice, between both pairs, for two reads to agree wrongly.
 */
uint32_t
pci_read(pci_dev_t d, uint32_t off)
{
	uint32_t v, again = read_once(d, off);
	do {
		v = again;
		again = read_once(d, off);
	} while (v != again);
	return v;
}

int
pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out)
{
	uint32_t id = (uint32_t)device << 16 | vendor;
	for (int s = 0; s < 32; s++) {
		pci_dev_t d = { 0, (uint8_t)s, 0 };
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
	return QS_ENOENT;
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
