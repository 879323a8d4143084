/*
 * CRC-32C (Castagnoli): the checksum of the node log's records (servers/
 * log). It detects every burst of up to 32 bits and, over records of the
 * lengths a log holds, more errors than CRC-32 (IEEE) does.
 */
#ifndef QS_CRC_H
#define QS_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Pass 0 to start, or a previous result to go on. CRC-32C of "123456789"
 * is 0xE3069283. */
uint32_t qs_crc32c(uint32_t crc, const void *p, size_t n);

#endif
