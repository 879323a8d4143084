/*
 * PCI configuration space, read through the configuration ports 0xcf8-0xcff
 * (mechanism #1): a driver needs `grant io 0xcf8 8`; without it the first
 * access faults. Only reads: the ports are an address/data pair that
 * other drivers use too, so a write could land in another device's
 * register, and sizing a BAR would take it off the bus for a moment under
 * whoever else uses it. How big a BAR is, init's `grant pci` knows: the
 * kernel sizes it, with interrupts off.
 */
#ifndef QS_PCI_H
#define QS_PCI_H

#include <stdint.h>

typedef struct {
	uint8_t bus, dev, fn;
} pci_dev_t;

/* A configuration dword, read until two reads agree (see pci.c). */
uint32_t pci_read(pci_dev_t d, uint32_t off);
/* The first function on bus 0 with this vendor and device id (QEMU's PC
 * has one bus, and `grant pci` looks there): 0, or QS_ENOENT. */
int pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out);
/* Where memory BAR `bar` (0-5) is: 0, or QS_EINVAL for an I/O BAR, an
 * unassigned one or one above 4 GiB. */
int pci_bar_base(pci_dev_t d, int bar, uint32_t *base);

#endif
