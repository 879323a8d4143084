/*
 * PCI configuration space, read through the kernel (SYS_PCI_READ): only a
 * device init granted the caller (`grant pci VVVV:DDDD BAR`) can be read,
 * and nothing can be written: its driver gets its registers (the BAR) and
 * its bus mastering, which the kernel turns on at the grant and off when
 * the driver's grants go (docs/security.md). How big a BAR is, the grant
 * knows: the kernel sizes it.
 */
#ifndef QS_PCI_H
#define QS_PCI_H

#include <stdint.h>

typedef struct {
	uint32_t id; /* vendor << 16 | device */
} pci_dev_t;

/* A configuration dword (register: a multiple of 4 below 256), or all ones
 * if the device is not the caller's. */
uint32_t pci_read(pci_dev_t d, uint32_t off);
/* The device init granted us with this vendor and device id: 0, or
 * QS_EPERM (not granted: no `grant pci` line for it). */
int pci_find(uint16_t vendor, uint16_t device, pci_dev_t *out);
/* Where memory BAR `bar` (0-5) is: 0, or QS_EINVAL for an I/O BAR, an
 * unassigned one or one above 4 GiB. */
int pci_bar_base(pci_dev_t d, int bar, uint32_t *base);

#endif
