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
		if (!f || fwrite(img->data[i], 1, img->size[i], f) != img->size[i]) {
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

/* What a write replaced, to undo it if the crash loses unsynced writes. */
typedef struct pre {
	uint64_t off;
	uint32_t len;
	struct pre *next;
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
pre_drop(cdev_t *c, int undo)
{
	while (c->unsynced) {
		pre_t *p = c->unsynced;
		c->unsynced = p->next;
		if (undo)
			c->file->write(c->file, p->off, p->old, p->len);
		free(p);
	}
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

static int
crash_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	cdev_t *c = d->priv;
	if (rt_crash.crashed)
		return 0;
	int now = ++rt_crash.writes == rt_crash.at;
	uint32_t keep = len;
	if (now)
		keep = rt_crash.keep_half
			       ? (len / RVM_SECTOR + 1) / 2 * RVM_SECTOR : 0;
	if (keep) {
		pre_t *p = malloc(sizeof(*p) + keep);
		if (c->file->read(c->file, off, p->old, keep) < 0 ||
		    c->file->write(c->file, off, buf, keep) < 0) {
			free(p);
			return -1;
		}
		p->off = off;
		p->len = keep;
		p->next = c->unsynced;
		c->unsynced = p;
	}
	if (now) {
		rt_crash.crashed = 1;
		for (cdev_t *k = cdevs; k; k = k->next)
			pre_drop(k, rt_crash.lose_unsynced);
	}
	return 0;
}

static int
crash_sync(rvm_dev_t *d)
{
	if (!rt_crash.crashed)
		pre_drop(d->priv, 0);
	return 0;
}

static void
crash_close(rvm_dev_t *d)
{
	cdev_t *c = d->priv, **pp = &cdevs;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	pre_drop(c, 0);
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
