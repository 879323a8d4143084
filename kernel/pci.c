/*
 * PCI configuration space, which only the kernel touches: it grants a
 * device's memory BAR by the device's identity (`grant pci VEN:DEV BAR` in
 * init's config: where the firmware put a BAR depends on the other devices
 * in the machine, so a fixed address in a config file would be wrong on
 * some machines), reads a granted device's configuration for its driver
 * (SYS_PCI_READ), and turns a device's bus mastering on for its driver and
 * off again when the driver's grants go.
 */
#include "kernel.h"
#include "x86.h"

#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_BAR0 0x10

static uint32_t
pci_read(uint32_t bdf, uint32_t reg)
{
	qs_outl(PCI_ADDR, 0x80000000u | bdf << 8 | (reg & 0xFC));
	return qs_inl(PCI_DATA);
}

static void
pci_write(uint32_t bdf, uint32_t reg, uint32_t v)
{
	qs_outl(PCI_ADDR, 0x80000000u | bdf << 8 | (reg & 0xFC));
	qs_outl(PCI_DATA, v);
}

/* The first function on bus 0 with this vendor and device id; -1 if none. */
int
pci_find(uint16_t vendor, uint16_t device)
{
	for (uint32_t bdf = 0; bdf < 32 * 8; bdf++) {
		uint32_t id = pci_read(bdf, 0);
		if ((id & 0xFFFF) == vendor && id >> 16 == device)
			return (int)bdf;
	}
	return -1;
}

/*
 * The address and size of memory BAR `bar` (0..5) of device VENDOR:DEVICE.
 * QS_ENOENT: no such device; QS_EINVAL: an I/O BAR, an unassigned one, or a
 * 64-bit BAR placed above 4 GiB, which a 32-bit kernel cannot map.
 */
uint32_t
pci_config(uint32_t bdf, uint32_t reg)
{
	return pci_read(bdf, reg);
}

void
pci_master(uint32_t bdf, bool on)
{
	/* only the command half: the status half's bits clear on a write */
	uint32_t cmd = pci_read(bdf, PCI_COMMAND) & 0xFFFF;
	cmd = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
	pci_write(bdf, PCI_COMMAND, cmd);
}

bool
pci_is_master(uint32_t bdf)
{
	return pci_read(bdf, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

int
pci_bar(uint16_t vendor, uint16_t device, uint32_t bar, uint32_t *base,
	uint32_t *size)
{
	if (bar > 5)
		return QS_EINVAL;
	int bdf = pci_find(vendor, device);
	if (bdf < 0)
		return QS_ENOENT;
	uint32_t reg = PCI_BAR0 + 4 * bar;
	uint32_t v = pci_read((uint32_t)bdf, reg);
	if (v & 1)
		return QS_EINVAL; /* I/O space */
	if ((v & 6) == 4 && (bar == 5 || pci_read((uint32_t)bdf, reg + 4) != 0))
		return QS_EINVAL; /* 64-bit, above 4 GiB */
	/* Sizing: all ones in, the writable address bits back out (system
	 * calls run with interrupts off, and grants are made before their
	 * driver runs, so nothing uses the BAR meanwhile). */
	pci_write((uint32_t)bdf, reg, 0xFFFFFFFFu);
	uint32_t mask = pci_read((uint32_t)bdf, reg) & ~0xFu;
	pci_write((uint32_t)bdf, reg, v);
	*base = v & ~0xFu;
	*size = ~mask + 1;
	if (*base == 0 || mask == 0)
		return QS_EINVAL;
	return 0;
}
