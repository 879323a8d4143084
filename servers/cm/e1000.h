/*
 * A user-level driver for QEMU's e1000 (Intel 82540EM, PCI 8086:100e),
 * through device grants: the PCI configuration ports (`grant io 0xcf8 8`),
 * its register BAR (`grant pci 8086:100e 0`), DMA pages for the rings and
 * buffers (`grant dma E1000_DMA_PAGES`) and its IRQ line (`grant irq N`, N
 * the PCI interrupt line the firmware gave it).
 *
 * Threads: e1000_intr may run in one thread while e1000_send and
 * e1000_recv run in another (they touch disjoint registers and state);
 * e1000_send callers must be serialised among themselves, and so must
 * e1000_recv callers.
 */
#ifndef CM_E1000_H
#define CM_E1000_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/cm.h>

#define E1000_VENDOR 0x8086
#define E1000_DEVICE 0x100e
#define E1000_RX_DESCS 64
#define E1000_TX_DESCS 32
#define E1000_BUF 2048 /* per descriptor; a frame fits in one */
/* One page for both rings, then the buffers. */
#define E1000_DMA_PAGES (1 + (E1000_RX_DESCS + E1000_TX_DESCS) * E1000_BUF / 4096)

typedef struct e1000_rx_desc e1000_rx_desc_t;
typedef struct e1000_tx_desc e1000_tx_desc_t;

typedef struct {
	volatile uint32_t *regs;
	int irq;
	uint8_t mac[6];
	e1000_rx_desc_t *rx;
	e1000_tx_desc_t *tx;
	uint8_t *rx_buf, *tx_buf;
	uint32_t rx_buf_phys, tx_buf_phys;
	uint32_t rx_next; /* the next descriptor the device fills */
	uint32_t tx_next; /* the next free TX descriptor */
	volatile bool link;
	cm_counters_t c;
} e1000_t;

/* Finds the device, resets it and starts RX and TX: 0, or a QS_E* error
 * (it printed why). */
int e1000_init(e1000_t *e);
/* Queues one Ethernet frame (header included, no FCS; 14 to
 * CM_FRAME_MAX bytes, padded to 60): 0, QS_EINVAL for a bad length,
 * QS_EAGAIN if the TX ring is full. */
int e1000_send(e1000_t *e, const void *frame, uint32_t len);
/* Copies the next received frame into buf: its length, or QS_EAGAIN if
 * none has come. Bad frames are counted (rx_dropped) and skipped; one
 * longer than cap is dropped and counted too. */
int e1000_recv(e1000_t *e, void *buf, uint32_t cap);
bool e1000_link_up(e1000_t *e);
/* Waits up to timeout_ms for the IRQ and handles what caused it (link
 * changes); returns what qs_irq_wait did (a count, or QS_ETIMEDOUT). */
int e1000_intr(e1000_t *e, int32_t timeout_ms);

#endif
