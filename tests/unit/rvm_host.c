/*
 * The host platform under the RVM library in the unit tests, built with
 * the host's headers (see unit.mk):
 *  - rvm_dev_open: a device is a file, read and written with pread and
 *    pwrite; in Vista mode it is also mapped MAP_SHARED, so stores to it
 *    survive the process like Rio's file cache survives a crash;
 *  - qs_mutex_* and qs_cond_*: libqs's futex mutex and condition variable
 *    over the host's futex, so the library's locking is the guest's;
 *  - the heap: qs_malloc and friends are the host's, which ASan watches.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <qs/rvm.h>
#include <qs/thread.h>

typedef struct {
	int fd;
} file_dev_t;

static int
io_ok(const rvm_dev_t *d, uint64_t off, uint32_t len)
{
	return off % RVM_SECTOR == 0 && len % RVM_SECTOR == 0 &&
	       off <= d->size && len <= d->size - off;
}

static int
file_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	file_dev_t *f = d->priv;
	if (!io_ok(d, off, len))
		return -1;
	for (uint32_t done = 0; done < len;) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done,
				  off + done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int
file_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	file_dev_t *f = d->priv;
	if (!io_ok(d, off, len))
		return -1;
	for (uint32_t done = 0; done < len;) {
		ssize_t n = pwrite(f->fd, (const char *)buf + done, len - done,
				   off + done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int
file_sync(rvm_dev_t *d)
{
	file_dev_t *f = d->priv;
	if (d->mem && msync(d->mem, d->size, MS_SYNC) < 0)
		return -1;
	return fdatasync(f->fd) < 0 ? -1 : 0;
}

static void
file_close(rvm_dev_t *d)
{
	file_dev_t *f = d->priv;
	if (d->mem)
		munmap(d->mem, d->size);
	close(f->fd);
	free(f);
	free(d);
}

rvm_dev_t *
rvm_dev_open(const char *name, int vista)
{
	struct stat st;
	int fd = open(name, O_RDWR);
	if (fd < 0)
		return NULL;
	rvm_dev_t *d = calloc(1, sizeof(*d));
	file_dev_t *f = calloc(1, sizeof(*f));
	if (!d || !f || fstat(fd, &st) < 0 || st.st_size % RVM_SECTOR)
		goto fail;
	d->size = st.st_size;
	if (vista) {
		d->mem = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, 0);
		if (d->mem == MAP_FAILED)
			goto fail;
	}
	f->fd = fd;
	d->priv = f;
	d->read = file_read;
	d->write = file_write;
	d->sync = file_sync;
	d->close = file_close;
	return d;
fail:
	close(fd);
	free(f);
	free(d);
	return NULL;
}

static uint32_t
cas(volatile uint32_t *p, uint32_t old, uint32_t new)
{
	__atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}

void
qs_mutex_lock(qs_mutex_t *m)
{
	uint32_t c = cas(&m->state, 0, 1);
	if (c == 0)
		return;
	if (c != 2)
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
	while (c != 0) {
		syscall(SYS_futex, &m->state, FUTEX_WAIT_PRIVATE, 2, NULL,
			NULL, 0);
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
	}
}

int
qs_mutex_trylock(qs_mutex_t *m)
{
	return cas(&m->state, 0, 1) == 0 ? 0 : -1;
}

void
qs_mutex_unlock(qs_mutex_t *m)
{
	if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_SEQ_CST) != 1) {
		__atomic_store_n(&m->state, 0, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &m->state, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
	}
}

void
qs_cond_wait(qs_cond_t *c, qs_mutex_t *m)
{
	uint32_t seq = c->seq;
	qs_mutex_unlock(m);
	syscall(SYS_futex, &c->seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
	qs_mutex_lock(m);
}

void
qs_cond_broadcast(qs_cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &c->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void *
qs_malloc(size_t n)
{
	return malloc(n);
}

void *
qs_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void *
qs_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

void
qs_free(void *p)
{
	free(p);
}
