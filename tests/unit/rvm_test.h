/*
 * Helpers shared by the RVM unit tests (rvm_testdev.c): a scratch
 * directory, device files and their images, a child process to crash in,
 * a crash-injecting device, and a small deterministic random generator.
 */
#ifndef QS_TEST_RVM_H
#define QS_TEST_RVM_H

#include <stddef.h>
#include <stdint.h>
#include <qs/rvm.h>

/* Makes a scratch directory (on tmpfs when there is one), enters it and
 * removes it at exit. Device names in the tests are file names in it. */
void rt_scratch(void);
/* Creates (or empties) a zero-filled device file of size bytes. */
void rt_file(const char *name, uint64_t size);
/* Writes n bytes at offset off of a device file: 0, or -1. */
int rt_poke(const char *name, uint64_t off, const void *buf, size_t n);

/* Device file contents, saved and put back to restart from one state. */
typedef struct {
	int n;
	const char *name[4];
	uint8_t *data[4];
	size_t size[4];
} rt_image_t;
void rt_save(rt_image_t *img, const char *const *names, int n);
void rt_restore(const rt_image_t *img);
void rt_image_free(rt_image_t *img);

/*
 * Runs fn in a child process, which ends with _exit(fn()) as a crashed
 * program would: no rvm_terminate, nothing flushed. Returns fn's value, or
 * -1 if the child died otherwise.
 */
int rt_child(int (*fn)(void *), void *arg);

/*
 * The crash-injecting device: a file device whose writes are counted
 * across all devices. At write number `at` the machine "crashes": that
 * write is torn, writes not yet synced may be lost, and from then on every
 * write and sync is silently dropped. The workload notices crashed and
 * stops. Syncs are not passed to the file (the wrapper decides what is
 * durable), which keeps the tests fast.
 */
enum {
	RT_TEAR_NONE,  /* nothing of the crashing write lands */
	RT_TEAR_HALF,  /* its first half of the sectors (rounded up) lands */
	RT_TEAR_BYTES, /* every other 16 bytes of its first sector land, then
			* every other sector: a disk that tears sectors and
			* reorders them */
};
enum {
	RT_KEEP_UNSYNCED, /* every write before the crash lands */
	RT_LOSE_UNSYNCED, /* on each device, the writes since its last sync
			   * are lost */
	RT_LOSE_SOME,     /* of those, the 1st, 3rd, 5th... are lost and the
			   * others land: a write cache that reorders */
};
struct rt_crash {
	long writes;
	long at; /* 0: never */
	int tear, unsynced;
	int crashed;
};
extern struct rt_crash rt_crash;
rvm_dev_t *rt_crash_open(const char *name);
void rt_crash_reset(long at);

/* Whether all len bytes at p are c. */
int rt_all(const uint8_t *p, int c, uint32_t len);

/* xorshift64*: the same sequence on every run. */
uint32_t rt_rand(uint64_t *state);

#endif
