/*
 * ATA PIO on the primary IDE channel's master disk (ports 0x1f0-0x1f7 and
 * the control port 0x3f6, both granted by init). If init also granted the
 * channel's interrupt (IRQ 14), the driver sleeps on it while the disk is
 * busy: it reads the status register, which clears the disk's interrupt,
 * and waits for the next (SYS_IRQ_WAIT), at most IRQ_WAIT_MS before it
 * looks again, so a lost interrupt costs time, never a request. The CPU is
 * free meanwhile, for other work or to halt (under icount the clock then
 * runs on in real time, so a slow disk's wait shows in guest time, as a
 * real one's would). Without the grant it polls: it sets nIEN so the disk
 * never raises the interrupt, and waits on the alternate status register,
 * which does not disturb the device, yielding the CPU meanwhile.
 * Every wait has a deadline, so a disk that stays busy costs one request
 * QS_EIO (and a channel reset), never a hung server.
 *
 * Reads and writes use READ/WRITE MULTIPLE when the disk offers them: the
 * device then moves up to `mult` sectors per data request (DRQ block)
 * instead of one. QEMU's IDE disk goes to the host file once per block,
 * and the driver waits for each of those trips, so a 64 KiB request costs
 * 8 waits instead of 128. Sector data moves 32 bits per port access (the
 * PIIX IDE controller takes them), half the accesses of 16-bit PIO.
 */
#include <stdbool.h>
#include <stdio.h>
#include <qs/cpu.h>
#include <qs/sys.h>
#include "ata.h"

#define ATA_DATA 0x1F0
#define ATA_ERROR 0x1F1
#define ATA_COUNT 0x1F2
#define ATA_LBA_LO 0x1F3
#define ATA_LBA_MID 0x1F4
#define ATA_LBA_HI 0x1F5
#define ATA_DEVICE 0x1F6
#define ATA_STATUS 0x1F7  /* read */
#define ATA_COMMAND 0x1F7 /* write */
#define ATA_CONTROL 0x3F6 /* write: device control; read: alternate status */

enum { ST_ERR = 0x01, ST_DRQ = 0x08, ST_DF = 0x20, ST_BSY = 0x80 };
enum { CTL_NIEN = 0x02, CTL_SRST = 0x04 };
enum {
	CMD_READ = 0x20, CMD_WRITE = 0x30, CMD_READ_MULT = 0xC4,
	CMD_WRITE_MULT = 0xC5, CMD_SET_MULT = 0xC6, CMD_FLUSH = 0xE7,
	CMD_IDENTIFY = 0xEC
};
#define DEV_LBA_MASTER 0xE0 /* LBA addressing, device 0; bits 0-3: LBA 24-27 */
#define ID_MULT_MAX 47      /* IDENTIFY words; bits 0-7: sectors per block */
#define ID_CAPS 49
#define ID_CAPS_LBA 0x0200
#define ID_MODEL 27
#define ID_MODEL_WORDS 20
#define ID_LBA28 60
#define WORDS 256           /* 16-bit words in a sector */
/* Generous: a flush is an fsync on the host, and TCG hosts are busy. */
#define TIMEOUT_MS 10000

/* Sectors per DRQ block: 1 (READ/WRITE SECTORS), or what SET MULTIPLE MODE
 * took (READ/WRITE MULTIPLE). */
static uint32_t mult = 1;

#define ATA_IRQ 14
#define IRQ_WAIT_MS 10 /* one clock tick: then the status is read again */
static bool use_irq; /* init granted IRQ 14: sleep on it, not spin */
static uint8_t ctl = CTL_NIEN; /* the device control bits: nIEN unless
				  use_irq */

/* The spec's 400 ns for the status to become valid: four port reads. */
static void
delay400(void)
{
	for (int i = 0; i < 4; i++)
		qs_inb(ATA_CONTROL);
}

/*
 * Waits until the device is not busy; returns its status, or QS_ETIMEDOUT.
 * The deadline is read before the status, so a server that was not
 * scheduled for a while still looks once more before giving up.
 */
static int
wait_ready(void)
{
	uint32_t deadline = qs_uptime_ms() + TIMEOUT_MS;
	for (;;) {
		bool late = (int32_t)(qs_uptime_ms() - deadline) >= 0;
		/* the status register clears the disk's interrupt, so the next
		   one is an edge the interrupt controller sees */
		uint8_t st = qs_inb(use_irq ? ATA_STATUS : ATA_CONTROL);
		if (!(st & ST_BSY))
			return st;
		if (late)
			return QS_ETIMEDOUT;
		if (use_irq)
			qs_irq_wait(ATA_IRQ, IRQ_WAIT_MS);
		else
			qs_yield();
	}
}

/*
 * A software reset of the channel. The master is selected first: status
 * reads come from the selected device, and QEMU's reset neither selects
 * the master nor is done at once (it sets BSY on both devices and resets
 * them later), so with the firmware's last choice, the absent slave, still
 * selected the status would read 0 ("not busy") while the reset is still
 * pending, and the writes that follow would be ignored.
 */
static int
reset(void)
{
	qs_outb(ATA_DEVICE, DEV_LBA_MASTER);
	delay400();
	qs_outb(ATA_CONTROL, ctl | CTL_SRST);
	delay400();
	qs_outb(ATA_CONTROL, ctl);
	delay400();
	int st = wait_ready();
	qs_outb(ATA_DEVICE, DEV_LBA_MASTER);
	delay400();
	return st < 0 ? st : 0;
}

/* Issues a command once the device is idle; count 256 is written as 0. */
static int
command(uint8_t cmd, uint32_t lba, uint32_t count)
{
	int st = wait_ready();
	if (st < 0)
		return st;
	qs_outb(ATA_DEVICE, (uint8_t)(DEV_LBA_MASTER | ((lba >> 24) & 0x0F)));
	delay400();
	if ((st = wait_ready()) < 0)
		return st;
	qs_outb(ATA_COUNT, (uint8_t)count);
	qs_outb(ATA_LBA_LO, (uint8_t)lba);
	qs_outb(ATA_LBA_MID, (uint8_t)(lba >> 8));
	qs_outb(ATA_LBA_HI, (uint8_t)(lba >> 16));
	qs_outb(ATA_COMMAND, cmd);
	delay400();
	return 0;
}

/* Waits until the device wants the next block moved (DRQ). */
static int
wait_drq(void)
{
	int st = wait_ready();
	if (st < 0)
		return st;
	return (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ) ? QS_EIO : 0;
}

/*
 * The end of a command: not busy, no error, no data left. Reading the
 * regular status register also clears the device's interrupt condition.
 */
static int
finish(void)
{
	int st = wait_ready();
	if (st < 0)
		return st;
	st = qs_inb(ATA_STATUS);
	return st & (ST_ERR | ST_DF | ST_DRQ) ? QS_EIO : 0;
}

/*
 * Asks for n sectors per DRQ block (a power of two the disk offers: 0 for
 * none, or IDENTIFY's maximum); falls back to one if the disk refuses. A
 * reset may restore the disk's default, so it is asked again after one.
 */
static void
set_multiple(uint32_t n)
{
	mult = 1;
	if (n > 1 && command(CMD_SET_MULT, 0, n) == 0 && finish() == 0)
		mult = n;
}

/* Reports a failed command (r: QS_ETIMEDOUT, or QS_EIO for an error the
 * status register still shows); QS_EIO for the request. */
static int
failed(const char *what, uint32_t lba, int r)
{
	if (r == QS_ETIMEDOUT) {
		printf("disk: %s at sector %u: the disk stayed busy for %d ms; "
		       "resetting the channel\n", what, lba, TIMEOUT_MS);
		uint32_t m = mult;
		if (reset() < 0)
			printf("disk: the channel is still busy after the reset\n");
		else
			set_multiple(m);
	} else {
		printf("disk: %s at sector %u: device error (status %#x, error %#x)\n",
		       what, lba, qs_inb(ATA_CONTROL), qs_inb(ATA_ERROR));
	}
	return QS_EIO;
}

/* Sectors in the DRQ block that starts at sector i of count. */
static uint32_t
block(uint32_t i, uint32_t count)
{
	return count - i < mult ? count - i : mult;
}

int
ata_read(uint32_t lba, uint32_t count, void *buf)
{
	uint8_t *p = buf;
	int r = command(mult > 1 ? CMD_READ_MULT : CMD_READ, lba, count);
	for (uint32_t i = 0; r == 0 && i < count; i += mult) {
		uint32_t n = block(i, count);
		if ((r = wait_drq()) == 0)
			qs_insl(ATA_DATA, p, n * WORDS / 2);
		p += n * 2 * WORDS;
	}
	if (r == 0)
		r = finish();
	return r < 0 ? failed("read", lba, r) : 0;
}

int
ata_write(uint32_t lba, uint32_t count, const void *buf)
{
	const uint8_t *p = buf;
	int r = command(mult > 1 ? CMD_WRITE_MULT : CMD_WRITE, lba, count);
	for (uint32_t i = 0; r == 0 && i < count; i += mult) {
		uint32_t n = block(i, count);
		if ((r = wait_drq()) == 0)
			qs_outsl(ATA_DATA, p, n * WORDS / 2);
		p += n * 2 * WORDS;
	}
	if (r == 0)
		r = finish();
	return r < 0 ? failed("write", lba, r) : 0;
}

int
ata_flush(void)
{
	int r = command(CMD_FLUSH, 0, 0);
	if (r == 0)
		r = finish();
	return r < 0 ? failed("flush", 0, r) : 0;
}

/* The model string: ATA stores two characters a word, the first high. */
static void
print_model(const uint16_t *id, uint32_t sectors)
{
	char model[2 * ID_MODEL_WORDS + 1];
	int n = 0;
	for (int i = 0; i < ID_MODEL_WORDS; i++) {
		model[n++] = (char)(id[ID_MODEL + i] >> 8);
		model[n++] = (char)id[ID_MODEL + i];
	}
	while (n > 0 && model[n - 1] == ' ')
		n--;
	model[n] = 0;
	printf("disk: %s, %u sectors (%u MiB), %s\n", model, sectors,
	       sectors >> 11, use_irq ? "waits on IRQ 14" : "polled");
}

int
ata_init(uint32_t *sectors)
{
	static uint16_t id[WORDS];

	if (qs_inb(ATA_CONTROL) == 0xFF) {
		printf("disk: no IDE controller at 0x1f0 (the bus floats)\n");
		return QS_ENOENT;
	}
	/* the interrupt is ours if init granted it (else QS_EPERM) */
	use_irq = qs_irq_wait(ATA_IRQ, 0) != QS_EPERM;
	ctl = use_irq ? 0 : CTL_NIEN;
	int r = reset();
	if (r == 0)
		r = command(CMD_IDENTIFY, 0, 0);
	if (r < 0)
		return failed("identify", 0, r);
	if (qs_inb(ATA_CONTROL) == 0 || (r = wait_drq()) != 0 ||
	    qs_inb(ATA_LBA_MID) || qs_inb(ATA_LBA_HI)) {
		/* no device, an ATAPI one (it aborts IDENTIFY), or a timeout */
		printf("disk: no ATA disk on the primary master (%s, status %#x)\n",
		       r == QS_ETIMEDOUT ? "it stayed busy" : "identify refused",
		       qs_inb(ATA_CONTROL));
		return r == QS_ETIMEDOUT ? QS_EIO : QS_ENOENT;
	}
	qs_insw(ATA_DATA, id, WORDS);
	if ((r = finish()) != 0)
		return failed("identify", 0, r);
	*sectors = id[ID_LBA28] | (uint32_t)id[ID_LBA28 + 1] << 16;
	if (!(id[ID_CAPS] & ID_CAPS_LBA) || *sectors == 0) {
		printf("disk: the disk cannot address sectors by LBA\n");
		return QS_ENOENT;
	}
	if (*sectors >= ATA_LBA28_MAX) /* only a broken disk says so */
		*sectors = ATA_LBA28_MAX - 1;
	print_model(id, *sectors);
	set_multiple(id[ID_MULT_MAX] & 0xFF);
	return 0;
}
