/*
 * The guest's RVM devices (rvm_dev_open in qs/rvm.h).
 *
 * "pmem" is the shared memory of QEMU's ivshmem-plain device (PCI
 * 1af4:1110, BAR2), which QEMU maps from a host file: a store lands in the
 * file at once and outlives a killed QEMU, so read and write are memcpy and
 * sync has nothing to do. The process needs `grant pci 1af4:1110 2` (to
 * find and map it). Device memory cannot be unmapped, so the mapping is made once and
 * shared by every open of the process.
 *
 * Any other name is a region of the disk server; requests are cut into
 * DISK_IO_MAX sectors, and sync is a disk flush.
 *
 * rvm_open_log_boot, the servers' start, is here too: it reads a boot
 * argument, which only the guest has (rvm_open.c has the rest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/disk.h>
#include <qs/pci.h>
#include <qs/rvm.h>
#include <qs/sys.h>
#include <qs/thread.h>

#define PMEM_NAME "pmem"
#define IVSHMEM_VENDOR 0x1AF4
#define IVSHMEM_DEVICE 0x1110
#define IVSHMEM_BAR_MEM 2

static struct {
	qs_mutex_t lock;
	void *mem; /* NULL until mapped */
	uint32_t size;
} pmem = { QS_MUTEX_INIT, NULL, 0 };

typedef struct {
	rvm_dev_t dev;
	disk_region_t region;
} disk_dev_t;

/* The device contract: whole sectors, inside the device. */
static int
range_ok(const rvm_dev_t *d, uint64_t off, uint32_t len)
{
	return off % RVM_SECTOR == 0 && len % RVM_SECTOR == 0 &&
	       off <= d->size && len <= d->size - off;
}

static int
pmem_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	if (!range_ok(d, off, len))
		return -1;
	memcpy(buf, (const uint8_t *)d->mem + off, len);
	return 0;
}

static int
pmem_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	if (!range_ok(d, off, len))
		return -1;
	memcpy((uint8_t *)d->mem + off, buf, len);
	return 0;
}

static int
pmem_sync(rvm_dev_t *d)
{
	(void)d; /* every store is already in the host file */
	return 0;
}

static void
dev_free(rvm_dev_t *d)
{
	free(d);
}

/*
 * Finds and maps the ivshmem memory, once; locked. Its size is that of the
 * grant (`grant pci` grants the whole BAR, whose size is a power of two):
 * the largest power of two that maps. A refused map costs nothing, and the
 * BAR is never written (see qs/pci.h).
 */
static int
pmem_map(void)
{
	pci_dev_t pci;
	uint32_t base;

	if (pmem.mem)
		return 0;
	if (pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, &pci) < 0) {
		printf("rvm_dev: no pmem: no ivshmem-plain device (PCI 1af4:1110) "
		       "granted\n");
		return QS_ENOENT;
	}
	if (pci_bar_base(pci, IVSHMEM_BAR_MEM, &base) < 0) {
		printf("rvm_dev: no pmem: the ivshmem BAR2 is not a memory BAR "
		       "below 4 GiB\n");
		return QS_EINVAL;
	}
	for (uint32_t size = 1u << 31; size >= RVM_SECTOR; size >>= 1) {
		if ((pmem.mem = qs_mmio_map(base, size))) {
			pmem.size = size;
			return 0;
		}
	}
	printf("rvm_dev: no pmem: BAR2 at %#x is not granted (init's config "
	       "needs \"grant pci 1af4:1110 2\")\n", base);
	return QS_EPERM;
}

/*
 * The persistent memory's parts, as the disk has regions: "pmem" is all of
 * it, "pmem.fs" the file server's half, "pmem.rvm" the other half, for the
 * RVM tests and benchmarks, so they never touch the file server's data.
 */
static const struct {
	const char *name;
	uint32_t half; /* 0: all, 1: the first half, 2: the second */
} pmem_parts[] = { { PMEM_NAME, 0 }, { "pmem.fs", 1 }, { "pmem.rvm", 2 } };

static rvm_dev_t *
pmem_open(uint32_t half)
{
	rvm_dev_t *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	qs_mutex_lock(&pmem.lock);
	int r = pmem_map();
	qs_mutex_unlock(&pmem.lock);
	if (r < 0) {
		free(d);
		return NULL;
	}
	d->size = half ? pmem.size / 2 : pmem.size;
	d->mem = (uint8_t *)pmem.mem + (half == 2 ? pmem.size / 2 : 0);
	d->read = pmem_read;
	d->write = pmem_write;
	d->sync = pmem_sync;
	d->close = dev_free;
	return d;
}

/* One read or write of whole sectors, cut into requests the server takes. */
static int
disk_dev_io(rvm_dev_t *d, uint64_t off, uint8_t *buf, uint32_t len, int write)
{
	const disk_region_t *reg = d->priv;
	if (!range_ok(d, off, len))
		return -1;
	uint32_t lba = (uint32_t)(off / DISK_SECTOR);
	for (uint32_t left = len / DISK_SECTOR; left > 0;) {
		uint32_t n = left < DISK_IO_MAX ? left : DISK_IO_MAX;
		int r = write ? disk_write(reg, lba, buf, n) : disk_read(reg, lba, buf, n);
		if (r < 0)
			return -1;
		lba += n;
		left -= n;
		buf += n * DISK_SECTOR;
	}
	return 0;
}

static int
disk_dev_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	return disk_dev_io(d, off, buf, len, 0);
}

static int
disk_dev_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	return disk_dev_io(d, off, (uint8_t *)(uintptr_t)buf, len, 1);
}

static int
disk_dev_sync(rvm_dev_t *d)
{
	return disk_flush(d->priv) < 0 ? -1 : 0;
}

static rvm_dev_t *
disk_dev_open(const char *name)
{
	disk_dev_t *dd = calloc(1, sizeof(*dd));
	if (!dd)
		return NULL;
	int r = disk_open(name, &dd->region);
	if (r < 0) {
		printf("rvm_dev: no disk region %s: %s\n", name, qs_strerror(r));
		free(dd);
		return NULL;
	}
	rvm_dev_t *d = &dd->dev; /* first member: dev_free frees dd */
	d->size = (uint64_t)dd->region.sectors * DISK_SECTOR;
	d->read = disk_dev_read;
	d->write = disk_dev_write;
	d->sync = disk_dev_sync;
	d->close = dev_free;
	d->priv = &dd->region;
	return d;
}

/* In the guest the name says what a device is; `vista` matters only on the
 * host, where it chooses a shared mapping of the file. */
rvm_dev_t *
rvm_dev_open(const char *name, int vista)
{
	(void)vista;
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(pmem_parts) / sizeof(pmem_parts[0]); i++)
		if (strcmp(name, pmem_parts[i].name) == 0)
			return pmem_open(pmem_parts[i].half);
	return disk_dev_open(name);
}

/* rvm_open_log with the boot argument format= (a comma-separated list of
 * the logs that may be formatted if they cannot be opened). */
rvm_return_t
rvm_open_log_boot(const char *who, rvm_options_t *o, uint64_t log_len)
{
	char format[128];
	if (qs_boot_arg("format", format, sizeof(format)) < 0)
		format[0] = '\0';
	return rvm_open_log(who, o, log_len, format);
}
