/* Helpers of the RVM unit tests; see rvm_test.h. Built with host headers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "rvm_test.h"

static char scratch[256];

static void
scratch_remove(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char path[600];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(scratch);
}

void
rt_scratch(void)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/rvmtest.XXXXXX", base);
	if (!mkdtemp(scratch) || chdir(scratch) < 0) {
		perror("rvm test scratch directory");
		exit(1);
	}
	atexit(scratch_remove);
}

void
rt_file(const char *name, uint64_t size)
{
	FILE *f = fopen(name, "w");
	if (!f || ftruncate(fileno(f), size) < 0) {
		perror(name);
		exit(1);
	}
	fclose(f);
}

void
rt_save(rt_image_t *img, const char *const *names, int n)
{
	img->n = n;
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(names[i], "r");
		if (!f || fseek(f, 0, SEEK_END) < 0) {
			perror(names[i]);
			exit(1);
		}
		img->name[i] = names[i];
		img->size[i] = ftell(f);
		img->data[i] = malloc(img->size[i]);
		rewind(f);
		if (fread(img->data[i], 1, img->size[i], f) != img->size[i]) {
			perror(names[i]);
			exit(1);
		}
		fclose(f);
	}
}

void
rt_restore(const rt_image_t *img)
{
	for (int i = 0; i < img->n; i++) {
		FILE *f = fopen(img->name[i], "r+");
		size_t n = img->size[i];
		if (!f || fwrite(img->data[i], 1, n, f) != n) {
			perror(img->name[i]);
			exit(1);
		}
		fclose(f);
	}
}

void
rt_image_free(rt_image_t *img)
{
	for (int i = 0; i < img->n; i++)
		free(img->data[i]);
	img->n = 0;
}

/*
 * ASan keeps up to 256 MiB of freed memory in quarantine; the crash tests
 * free a lot and fork often, and each fork copies the page tables of all
 * of it. A smaller quarantine still catches use after free.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=8";
}

int
rt_poke(const char *name, uint64_t off, const void *buf, size_t n)
{
	FILE *f = fopen(name, "r+");
	int ok = f && fseek(f, off, SEEK_SET) == 0 && fwrite(buf, 1, n, f) == n;
	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
rt_child(int (*fn)(void *), void *arg)
{
	int status;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct rt_crash rt_crash;

/* A write since the device's last sync: what it replaced, what it wrote. */
typedef struct pre {
	uint64_t off;
	uint32_t len;
	struct pre *next;
	uint8_t *now;
	uint8_t old[];
} pre_t;

typedef struct cdev {
	rvm_dev_t dev;
	rvm_dev_t *file;
	pre_t *unsynced; /* newest first */
	struct cdev *next;
} cdev_t;

static cdev_t *cdevs;

static void
pre_free(cdev_t *c)
{
	while (c->unsynced) {
		pre_t *p = c->unsynced;
		c->unsynced = p->next;
		free(p);
	}
}

/* What the crash does to the writes since the last sync: undo them all
 * (newest first), then redo those that land (oldest first). */
static void
pre_crash(cdev_t *c)
{
	pre_t *p, *old = NULL;
	if (rt_crash.unsynced != RT_KEEP_UNSYNCED) {
		for (p = c->unsynced; p; p = p->next)
			c->file->write(c->file, p->off, p->old, p->len);
	}
	while (c->unsynced) { /* reverse the list: oldest first */
		p = c->unsynced;
		c->unsynced = p->next;
		p->next = old;
		old = p;
	}
	c->unsynced = old;
	int i = 0;
	for (p = c->unsynced; rt_crash.unsynced == RT_LOSE_SOME && p; p = p->next)
		if (i++ % 2)
			c->file->write(c->file, p->off, p->now, p->len);
	pre_free(c);
}

void
rt_crash_reset(long at)
{
	rt_crash.writes = 0;
	rt_crash.at = at;
	rt_crash.crashed = 0;
}

static int
crash_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	cdev_t *c = d->priv;
	return c->file->read(c->file, off, buf, len);
}

/* Writes [off, off + len) of buf, remembering what was there. */
static int
land(cdev_t *c, uint64_t off, const uint8_t *buf, uint32_t len)
{
	pre_t *p = malloc(sizeof(*p) + 2 * len);
	p->now = p->old + len;
	memcpy(p->now, buf, len);
	if (c->file->read(c->file, off, p->old, len) < 0 ||
	    c->file->write(c->file, off, buf, len) < 0) {
		free(p);
		return -1;
	}
	p->off = off;
	p->len = len;
	p->next = c->unsynced;
	c->unsynced = p;
	return 0;
}

/* The crashing write: what of it lands depends on rt_crash.tear. */
static int
tear(cdev_t *c, uint64_t off, const uint8_t *buf, uint32_t len)
{
	uint32_t n = len / RVM_SECTOR;
	if (rt_crash.tear == RT_TEAR_HALF)
		return land(c, off, buf, (n + 1) / 2 * RVM_SECTOR);
	if (rt_crash.tear != RT_TEAR_BYTES)
		return 0;
	uint8_t sect[RVM_SECTOR];
	if (c->file->read(c->file, off, sect, RVM_SECTOR) < 0)
		return -1;
	for (int i = 0; i < RVM_SECTOR; i += 32)
		memcpy(sect + i, buf + i, 16);
	if (land(c, off, sect, RVM_SECTOR) < 0)
		return -1;
	for (uint32_t i = 1; i < n; i += 2)
		if (land(c, off + i * RVM_SECTOR, buf + i * RVM_SECTOR,
			 RVM_SECTOR) < 0)
			return -1;
	return 0;
}

static int
crash_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	cdev_t *c = d->priv;
	if (rt_crash.crashed)
		return 0;
	if (++rt_crash.writes != rt_crash.at)
		return land(c, off, buf, len);
	int r = tear(c, off, buf, len);
	rt_crash.crashed = 1;
	for (cdev_t *k = cdevs; k; k = k->next)
		pre_crash(k);
	return r;
}

static int
crash_sync(rvm_dev_t *d)
{
	if (!rt_crash.crashed)
		pre_free(d->priv);
	return 0;
}

static void
crash_close(rvm_dev_t *d)
{
	cdev_t *c = d->priv, **pp = &cdevs;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	pre_free(c);
	c->file->close(c->file);
	free(c);
}

rvm_dev_t *
rt_crash_open(const char *name)
{
	rvm_dev_t *file = rvm_dev_open(name, 0);
	if (!file)
		return NULL;
	cdev_t *c = calloc(1, sizeof(*c));
	c->file = file;
	c->dev.size = file->size;
	c->dev.read = crash_read;
	c->dev.write = crash_write;
	c->dev.sync = crash_sync;
	c->dev.close = crash_close;
	c->dev.priv = c;
	c->next = cdevs;
	cdevs = c;
	return &c->dev;
}

uint32_t
rt_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545f4914f6cdd1dull) >> 32;
}

int
rt_all(const uint8_t *p, int c, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}
