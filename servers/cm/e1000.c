/*
 * The e1000 driver (see e1000.h): the 82540EM's legacy descriptors, one
 * 2 KiB buffer per descriptor, so a frame is always in one buffer (long
 * packet reception is off; a frame over 1514 bytes never fits the MTU).
 * Only the registers QEMU's model implements are used; its manual is
 * Intel's "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (8254x), chapters 3, 13 and 14.
 */
#include <stdio.h>
#include <string.h>
#include <qs/pci.h>
#include <qs/sys.h>
#include "e1000.h"

/* Registers, as indexes of 32-bit words. */
#define REG_CTRL (0x0000 / 4)
#define REG_STATUS (0x0008 / 4)
#define REG_EERD (0x0014 / 4)
#define REG_ICR (0x00C0 / 4)
#define REG_IMS (0x00D0 / 4)
#define REG_IMC (0x00D8 / 4)
#define REG_RCTL (0x0100 / 4)
#define REG_TCTL (0x0400 / 4)
#define REG_TIPG (0x0410 / 4)
#define REG_RDBAL (0x2800 / 4)
#define REG_RDBAH (0x2804 / 4)
#define REG_RDLEN (0x2808 / 4)
#define REG_RDH (0x2810 / 4)
#define REG_RDT (0x2818 / 4)
#define REG_TDBAL (0x3800 / 4)
#define REG_TDBAH (0x3804 / 4)
#define REG_TDLEN (0x3808 / 4)
#define REG_TDH (0x3810 / 4)
#define REG_TDT (0x3818 / 4)
#define REG_MTA (0x5200 / 4)
#define REG_RAL (0x5400 / 4)
#define REG_RAH (0x5404 / 4)

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define EERD_DONE (1u << 4)
#define RAH_AV (1u << 31)
#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)   /* accept broadcasts */
#define RCTL_SECRC (1u << 26) /* strip the FCS */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x0Fu << 4)
#define TCTL_COLD (0x40u << 12)
#define INT_TXDW (1u << 0)
#define INT_LSC (1u << 2)
#define INT_RXDMT0 (1u << 4)
#define INT_RXO (1u << 6)
#define INT_RXT0 (1u << 7)
#define DESC_DD 0x01   /* status: the device is done with it */
#define RXSTA_EOP 0x02 /* the frame's last buffer */
#define TXCMD_EOP 0x01 /* the frame's last buffer */
#define TXCMD_IFCS 0x02
#define TXCMD_RS 0x08
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_INTERRUPT 0x3C
#define REGS_SIZE 0x20000
#define FRAME_PAD 60 /* the shortest frame on the wire, without FCS */

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
} __attribute__((packed));

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
} __attribute__((packed));

/* The device reads descriptors from memory: every store to them must be
 * made before the register write that hands them over. x86 keeps stores
 * in order, so stopping the compiler is enough. */
#define barrier() __asm__ volatile("" ::: "memory")

static int
eeprom_read(e1000_t *e, uint32_t word, uint16_t *out)
{
	e->regs[REG_EERD] = EERD_START | word << 8;
	for (int i = 0; i < 100000; i++) {
		uint32_t v = e->regs[REG_EERD];
		if (v & EERD_DONE) {
			*out = (uint16_t)(v >> 16);
			return 0;
		}
	}
	return QS_EIO;
}

/* The MAC address is in EEPROM words 0-2; the receive filter gets it too
 * (QEMU loads RAL0 from the EEPROM as well, but a real 82540 would need it). */
static int
read_mac(e1000_t *e)
{
	for (uint32_t w = 0; w < 3; w++) {
		uint16_t v;
		if (eeprom_read(e, w, &v) < 0) {
			printf("cm: e1000: the EEPROM does not answer\n");
			return QS_EIO;
		}
		e->mac[2 * w] = (uint8_t)v;
		e->mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	const uint8_t *m = e->mac;
	e->regs[REG_RAL] = m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24;
	e->regs[REG_RAH] = m[4] | m[5] << 8 | RAH_AV;
	return 0;
}

/* PCI: the device, its register BAR mapped, its IRQ line. The PCI command
 * register must already allow bus mastering (the kernel sets it when init
 * grants the BAR): without it QEMU drops the device's DMA. */
static int
find_device(e1000_t *e)
{
	pci_dev_t d;
	uint32_t bar;

	if (pci_find(E1000_VENDOR, E1000_DEVICE, &d) < 0) {
		printf("cm: no e1000 (PCI %04x:%04x) granted\n", E1000_VENDOR,
		       E1000_DEVICE);
		return QS_ENOENT;
	}
	if (pci_bar_base(d, 0, &bar) < 0) {
		printf("cm: e1000: BAR0 is not a memory BAR below 4 GiB\n");
		return QS_EINVAL;
	}
	if (!(pci_read(d, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
		printf("cm: e1000: bus mastering is off (no `grant pci %04x:%04x 0`?)\n",
		       E1000_VENDOR, E1000_DEVICE);
		return QS_EINVAL;
	}
	e->irq = (int)(pci_read(d, PCI_INTERRUPT) & 0xFF);
	e->regs = qs_mmio_map(bar, REGS_SIZE);
	if (!e->regs) {
		printf("cm: e1000: cannot map BAR0 at 0x%x (granted?)\n", bar);
		return QS_EPERM;
	}
	return 0;
}

static int
rings_alloc(e1000_t *e)
{
	uint32_t phys;
	uint8_t *p = qs_dma_alloc(E1000_DMA_PAGES, &phys);

	if (!p) {
		printf("cm: e1000: cannot get %d DMA pages (grant dma %d)\n",
		       E1000_DMA_PAGES, E1000_DMA_PAGES);
		return QS_ENOMEM;
	}
	e->rx = (e1000_rx_desc_t *)p;
	e->tx = (e1000_tx_desc_t *)(p + E1000_RX_DESCS * sizeof(*e->rx));
	e->rx_buf = p + 4096;
	e->rx_buf_phys = phys + 4096;
	e->tx_buf = e->rx_buf + E1000_RX_DESCS * E1000_BUF;
	e->tx_buf_phys = e->rx_buf_phys + E1000_RX_DESCS * E1000_BUF;
	for (uint32_t i = 0; i < E1000_RX_DESCS; i++)
		e->rx[i].addr = e->rx_buf_phys + i * E1000_BUF;
	for (uint32_t i = 0; i < E1000_TX_DESCS; i++) {
		e->tx[i].addr = e->tx_buf_phys + i * E1000_BUF;
		e->tx[i].status = DESC_DD; /* free */
	}
	return 0;
}

static void
rings_start(e1000_t *e, uint32_t rings_phys)
{
	volatile uint32_t *r = e->regs;

	for (int i = 0; i < 128; i++)
		r[REG_MTA + i] = 0; /* no multicast, only broadcast and ours */
	r[REG_RDBAL] = rings_phys;
	r[REG_RDBAH] = 0;
	r[REG_RDLEN] = E1000_RX_DESCS * sizeof(e1000_rx_desc_t);
	r[REG_RDH] = 0;
	/* Head == tail means "no buffers": one descriptor always stays out. */
	r[REG_RDT] = E1000_RX_DESCS - 1;
	r[REG_TDBAL] = rings_phys + E1000_RX_DESCS * sizeof(e1000_rx_desc_t);
	r[REG_TDBAH] = 0;
	r[REG_TDLEN] = E1000_TX_DESCS * sizeof(e1000_tx_desc_t);
	r[REG_TDH] = 0;
	r[REG_TDT] = 0;
	r[REG_TIPG] = 10 | 10 << 10 | 10 << 20;
	r[REG_RCTL] = RCTL_EN | RCTL_BAM | RCTL_SECRC; /* 2 KiB buffers */
	r[REG_TCTL] = TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD;
}

int
e1000_init(e1000_t *e)
{
	memset(e, 0, sizeof(*e));
	int r = find_device(e);
	if (r < 0)
		return r;
	e->regs[REG_IMC] = 0xFFFFFFFFu;
	e->regs[REG_CTRL] |= CTRL_RST;
	for (int i = 0; i < 100000 && (e->regs[REG_CTRL] & CTRL_RST); i++)
		;
	if (e->regs[REG_CTRL] & CTRL_RST) {
		printf("cm: e1000: reset does not finish\n");
		return QS_EIO;
	}
	e->regs[REG_IMC] = 0xFFFFFFFFu; /* the reset may have enabled some */
	(void)e->regs[REG_ICR];
	if ((r = read_mac(e)) < 0 || (r = rings_alloc(e)) < 0)
		return r;
	uint32_t rings_phys = e->rx_buf_phys - 4096;
	rings_start(e, rings_phys);
	e->regs[REG_CTRL] = (e->regs[REG_CTRL] | CTRL_SLU | CTRL_ASDE);
	e->link = (e->regs[REG_STATUS] & STATUS_LU) != 0;
	e->regs[REG_IMS] = INT_LSC | INT_RXT0 | INT_RXO | INT_RXDMT0 | INT_TXDW;
	return 0;
}

int
e1000_send(e1000_t *e, const void *frame, uint32_t len)
{
	if (len < CM_FRAME_MIN || len > CM_FRAME_MAX) {
		e->c.errors++;
		return QS_EINVAL;
	}
	uint32_t i = e->tx_next;
	volatile e1000_tx_desc_t *d = &e->tx[i];
	if (!(d->status & DESC_DD)) {
		e->c.errors++;
		return QS_EAGAIN;
	}
	uint8_t *buf = e->tx_buf + i * E1000_BUF;
	memcpy(buf, frame, len);
	if (len < FRAME_PAD) { /* TCTL.PSP pads too, but with what was there */
		memset(buf + len, 0, FRAME_PAD - len);
		len = FRAME_PAD;
	}
	d->length = (uint16_t)len;
	d->cmd = TXCMD_EOP | TXCMD_IFCS | TXCMD_RS;
	d->status = 0;
	barrier();
	e->tx_next = (i + 1) % E1000_TX_DESCS;
	e->regs[REG_TDT] = e->tx_next;
	e->c.tx++;
	return 0;
}

/* Gives descriptor i back to the device. */
static void
rx_release(e1000_t *e, uint32_t i)
{
	e->rx[i].status = 0;
	barrier();
	e->regs[REG_RDT] = i;
	e->rx_next = (i + 1) % E1000_RX_DESCS;
}

int
e1000_recv(e1000_t *e, void *buf, uint32_t cap)
{
	for (;;) {
		uint32_t i = e->rx_next;
		volatile e1000_rx_desc_t *d = &e->rx[i];
		if (!(d->status & DESC_DD))
			return QS_EAGAIN;
		barrier();
		uint32_t len = d->length;
		bool good = (d->status & RXSTA_EOP) && d->errors == 0 &&
			    len >= CM_FRAME_MIN && len <= CM_FRAME_MAX && len <= cap;
		if (good)
			memcpy(buf, e->rx_buf + i * E1000_BUF, len);
		rx_release(e, i);
		if (good) {
			e->c.rx++;
			return (int)len;
		}
		e->c.rx_dropped++;
	}
}

bool
e1000_link_up(e1000_t *e)
{
	return e->link;
}

int
e1000_intr(e1000_t *e, int32_t timeout_ms)
{
	int r = qs_irq_wait(e->irq, timeout_ms);
	if (r < 0 && r != QS_ETIMEDOUT)
		return r;
	if (r > 0) {
		e->c.interrupts++;
		(void)e->regs[REG_ICR]; /* reading acknowledges every cause */
	}
	/* STATUS.LU, not only the LSC cause: a missed interrupt is still
	 * noticed at the next timeout. */
	bool up = (e->regs[REG_STATUS] & STATUS_LU) != 0;
	if (up != e->link) {
		e->link = up;
		e->c.link_changes++;
		printf("cm: link %s\n", up ? "up" : "down");
	}
	return r;
}
