/* The ATA PIO driver of the primary IDE channel's master disk. */
#ifndef DISK_ATA_H
#define DISK_ATA_H

#include <stdint.h>

#define ATA_LBA28_MAX (1u << 28) /* sectors LBA28 commands can address */

/*
 * Resets the channel and identifies the disk: its size in sectors (at most
 * ATA_LBA28_MAX - 1). QS_ENOENT: no ATA disk there; QS_EIO: it failed or
 * timed out.
 */
int ata_init(uint32_t *sectors);
/* count is 1..256 sectors of 512 bytes; QS_OK or QS_EIO. */
int ata_read(uint32_t lba, uint32_t count, void *buf);
int ata_write(uint32_t lba, uint32_t count, const void *buf);
/* Returns when the disk's write cache is on the medium. */
int ata_flush(void);

#endif
