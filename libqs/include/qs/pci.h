/*
 * PCI configuration space through the configuration ports 0xcf8-0xcff
 * (mechanism #1): a driver needs `grant io 0xcf8 8`; without it the first
 * access faults. The ports are an address/data pair, so two processes
 * scanning at the same moment can see each other's registers: drivers look
 * their device up once, at start.
 */
#ifndef QS_PCI_H
#define QS_PCI_H

#include <stdint.h>

#define PCI_COMMAND 0x04
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEMORY 0x0002
#define PCI_BAR0 0x10

typedef struct {
	uint8_t bus, dev, fn;
} pci_dev_t;

uint32_t pci_read(pci_dev_t d, uint32_t off);
void pci_write(pci_dev_t d, uint32_t off, uint32_t v);
/* The first function with this vendor and device id: 0, or QS_ENOENT. */
int pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out);
/*
 * Where memory BAR `bar` (0-5; a 64-bit one takes two slots) is, and how
 * big, sized the standard way (all ones written, the mask read back) with
 * the device's decoding off meanwhile; memory decoding is on afterwards.
 * QS_EINVAL for an I/O BAR or an unassigned one.
 */
int pci_bar_mem(pci_dev_t d, int bar, uint64_t *base, uint64_t *size);

#endif
