/*
 * The file system's layout in its RVM segment: superblock, inodes, block
 * map, data blocks; directories are files of dirent_t. Nothing here writes
 * the segment without naming the range to fs_mod() first. An operation
 * checks everything that can fail (names, space, locks) before it changes
 * anything, so a refused operation leaves no trace in its transaction.
 */
#include <string.h>
#include <qs/abi.h>
#include "fs.h"

uint8_t *fs_base;
uint32_t fs_size;

super_t *
fs_super(void)
{
	return (super_t *)fs_base;
}

static uint8_t *
block(uint32_t b)
{
	return fs_base + b * BLOCK;
}

static uint8_t *
map(void)
{
	return block(fs_super()->map_start);
}

static bool
data_block(uint32_t b)
{
	return b >= fs_super()->data_start && b < fs_super()->blocks;
}

inode_t *
fs_inode(uint32_t ino)
{
	super_t *s = fs_super();
	if (ino == 0 || ino >= s->inodes)
		return NULL;
	return (inode_t *)block(s->inode_start) + ino;
}

int
fs_format(fs_tx_t *t, uint32_t size)
{
	super_t s = { .magic = FS_MAGIC, .version = FS_VERSION };
	s.blocks = size / BLOCK;
	s.inodes = s.blocks / 8 < 64 ? 64 : s.blocks / 8;
	s.inodes = (s.inodes + BLOCK / 64 - 1) / (BLOCK / 64) * (BLOCK / 64);
	s.inode_start = 1;
	s.map_start = s.inode_start + s.inodes * 64 / BLOCK;
	s.data_start = s.map_start + (s.blocks + BLOCK - 1) / BLOCK;
	if (s.data_start + 8 > s.blocks)
		return QS_ENOSPC;
	int r = fs_mod(t, fs_base, s.data_start * BLOCK);
	if (r < 0)
		return r;
	memset(fs_base, 0, s.data_start * BLOCK);
	memcpy(fs_base, &s, sizeof(s));
	memset(map(), 1, s.data_start);
	fs_inode(ROOT_INO)->type = FS_T_DIR;
	return 0;
}

int
fs_check(uint32_t size)
{
	super_t *s = fs_super();
	if (s->magic != FS_MAGIC || s->version != FS_VERSION)
		return QS_ENOENT; /* not formatted */
	if (s->blocks * BLOCK != size || s->inode_start != 1 ||
	    s->map_start <= s->inode_start || s->data_start <= s->map_start ||
	    s->data_start >= s->blocks || s->inodes < 2 ||
	    s->inode_start + s->inodes * 64 / BLOCK > s->map_start ||
	    s->map_start + (s->blocks + BLOCK - 1) / BLOCK > s->data_start ||
	    fs_inode(ROOT_INO)->type != FS_T_DIR)
		return QS_EIO;
	return 0;
}

/* ---- blocks --------------------------------------------------------- */

static uint32_t
free_blocks(void)
{
	uint32_t n = 0;
	for (uint32_t b = fs_super()->data_start; b < fs_super()->blocks; b++)
		if (!map()[b] && !fs_block_reserved(b))
			n++;
	return n;
}

static int
balloc(fs_tx_t *t, uint32_t *out)
{
	for (uint32_t b = fs_super()->data_start; b < fs_super()->blocks; b++) {
		if (map()[b] || fs_block_reserved(b))
			continue;
		int r = fs_mod(t, &map()[b], 1);
		if (r == 0)
			r = fs_mod(t, block(b), BLOCK);
		if (r < 0)
			return r;
		map()[b] = 1;
		memset(block(b), 0, BLOCK);
		*out = b;
		return 0;
	}
	return QS_ENOSPC;
}

/* Freed blocks stay reserved until the transaction ends: if it aborts, they
 * are its file's again. */
static int
bfree(fs_tx_t *t, uint32_t b)
{
	if (!data_block(b))
		return 0;
	int r = fs_mod(t, &map()[b], 1);
	if (r < 0)
		return r;
	map()[b] = 0;
	fs_block_reserve(t->tx, b);
	return 0;
}

/* Block number of the file's block `idx`, 0 for a hole. */
static uint32_t
bmap(const inode_t *in, uint32_t idx)
{
	uint32_t b;
	if (idx < NDIRECT) {
		b = in->direct[idx];
	} else {
		if (!data_block(in->indirect))
			return 0;
		b = ((uint32_t *)block(in->indirect))[idx - NDIRECT];
	}
	return data_block(b) ? b : 0;
}

/* Blocks a write of [off, end) needs that the file does not have. */
static uint32_t
blocks_needed(const inode_t *in, uint32_t off, uint32_t end)
{
	uint32_t n = 0;
	bool indirect = false;
	for (uint32_t i = off / BLOCK; i * BLOCK < end; i++) {
		if (!bmap(in, i))
			n++;
		if (i >= NDIRECT && !data_block(in->indirect))
			indirect = true;
	}
	return n + indirect;
}

static int
bmap_alloc(fs_tx_t *t, inode_t *in, uint32_t idx, uint32_t *out)
{
	uint32_t b = bmap(in, idx);
	if (b) {
		*out = b;
		return 0;
	}
	uint32_t *slot;
	int r;
	if (idx < NDIRECT) {
		slot = &in->direct[idx];
	} else {
		if (!data_block(in->indirect)) {
			uint32_t ib;
			if ((r = balloc(t, &ib)) < 0 ||
			    (r = fs_mod(t, &in->indirect, 4)) < 0)
				return r;
			in->indirect = ib;
		}
		slot = (uint32_t *)block(in->indirect) + (idx - NDIRECT);
	}
	if ((r = balloc(t, &b)) < 0 || (r = fs_mod(t, slot, 4)) < 0)
		return r;
	*slot = b;
	*out = b;
	return 0;
}

uint32_t
fs_inode_blocks(uint32_t ino)
{
	inode_t *in = fs_inode(ino);
	uint32_t n = 0;
	for (uint32_t i = 0; i < NDIRECT + NINDIRECT; i++)
		n += bmap(in, i) != 0;
	return n + data_block(in->indirect);
}

void
fs_count_free(uint32_t *blocks, uint32_t *inodes)
{
	*blocks = free_blocks();
	*inodes = 0;
	for (uint32_t i = ROOT_INO + 1; i < fs_super()->inodes; i++)
		*inodes += fs_inode(i)->type == 0 && !fs_ino_locked(i);
}

void
fs_block_owners(uint32_t *owner)
{
	memset(owner, 0, fs_super()->blocks * sizeof(*owner));
	for (uint32_t i = ROOT_INO; i < fs_super()->inodes; i++) {
		inode_t *in = fs_inode(i);
		if (!in->type)
			continue;
		for (uint32_t k = 0; k < NDIRECT + NINDIRECT; k++) {
			uint32_t b = bmap(in, k);
			if (b)
				owner[b] = i;
		}
		if (data_block(in->indirect))
			owner[in->indirect] = i;
	}
}

/*
 * Which objects the bytes of an in-doubt transaction's range belong to.
 * The transaction changed only what it had locked or reserved while it
 * ran (store.c names nothing else to fs_mod): inodes, the map bytes of
 * blocks it allocated or freed, and blocks of its files or that it
 * allocated. Locking the inode of each such byte, and reserving each such
 * block, keeps every other transaction off all of them: allocation skips
 * locked inodes and reserved blocks, and reads and changes of a file need
 * its lock. A data block's file is the one that has it now (LRVM: in the
 * old values, Vista: in the new ones); a block no file has is one the
 * transaction allocated (LRVM) or freed (Vista). The superblock is never
 * part of a client's transaction; should it be, everything is locked.
 */
void
fs_guard_range(uint64_t tx, const uint8_t *p, uint32_t len,
               const uint32_t *owner)
{
	super_t *s = fs_super();
	if (p < fs_base || p >= fs_base + fs_size)
		return; /* not ours: RVM maps nothing else here */
	uint32_t off = (uint32_t)(p - fs_base);
	uint32_t end = len > fs_size - off ? fs_size : off + len;
	uint32_t istart = s->inode_start * BLOCK, mstart = s->map_start * BLOCK;
	uint32_t dstart = s->data_start * BLOCK;
	for (uint32_t o = off; o < end; o++) {
		if (o < istart) {
			for (uint32_t i = 0; i < s->inodes; i++)
				fs_lock_write(tx, i);
			o = istart - 1;
		} else if (o < mstart) {
			fs_lock_write(tx, (o - istart) / sizeof(inode_t));
		} else if (o < dstart) {
			if (!fs_block_reserved(o - mstart))
				fs_block_reserve(tx, o - mstart);
		} else if (owner[o / BLOCK]) {
			fs_lock_write(tx, owner[o / BLOCK]);
			o |= BLOCK - 1; /* the rest of the block: the same file */
		} else {
			if (!fs_block_reserved(o / BLOCK))
				fs_block_reserve(tx, o / BLOCK);
			o |= BLOCK - 1;
		}
	}
}

/* ---- file data ------------------------------------------------------ */

int
fs_file_read(uint32_t ino, uint32_t off, void *buf, uint32_t len)
{
	inode_t *in = fs_inode(ino);
	if (off >= in->size)
		return 0;
	if (len > in->size - off)
		len = in->size - off;
	for (uint32_t done = 0; done < len;) {
		uint32_t pos = off + done, b = bmap(in, pos / BLOCK);
		uint32_t n = BLOCK - pos % BLOCK;
		if (n > len - done)
			n = len - done;
		if (b)
			memcpy((uint8_t *)buf + done, block(b) + pos % BLOCK, n);
		else
			memset((uint8_t *)buf + done, 0, n);
		done += n;
	}
	return (int)len;
}

int
fs_file_write(fs_tx_t *t, uint32_t ino, uint32_t off, const void *buf, uint32_t len)
{
	inode_t *in = fs_inode(ino);
	if (len == 0)
		return 0;
	if (off > FILE_MAX || len > FILE_MAX - off)
		return QS_E2BIG;
	if (blocks_needed(in, off, off + len) > free_blocks())
		return QS_ENOSPC;
	for (uint32_t done = 0; done < len;) {
		uint32_t pos = off + done, b;
		uint32_t n = BLOCK - pos % BLOCK;
		if (n > len - done)
			n = len - done;
		int r = bmap_alloc(t, in, pos / BLOCK, &b);
		if (r == 0)
			r = fs_mod(t, block(b) + pos % BLOCK, n);
		if (r < 0)
			return r;
		memcpy(block(b) + pos % BLOCK, (const uint8_t *)buf + done, n);
		done += n;
	}
	if (off + len > in->size) {
		int r = fs_mod(t, &in->size, sizeof(in->size));
		if (r < 0)
			return r;
		in->size = off + len;
	}
	return (int)len;
}

int
fs_truncate(fs_tx_t *t, uint32_t ino)
{
	inode_t *in = fs_inode(ino);
	int r;
	for (uint32_t i = 0; i < NDIRECT + NINDIRECT; i++) {
		uint32_t b = bmap(in, i);
		if (b && (r = bfree(t, b)) < 0)
			return r;
	}
	if ((r = bfree(t, in->indirect)) < 0 || (r = fs_mod(t, in, sizeof(*in))) < 0)
		return r;
	memset(in->direct, 0, sizeof(in->direct));
	in->indirect = 0;
	in->size = 0;
	return 0;
}

/* ---- inodes --------------------------------------------------------- */

int
fs_ialloc(fs_tx_t *t, uint16_t type, uint32_t *out)
{
	for (uint32_t i = ROOT_INO + 1; i < fs_super()->inodes; i++) {
		inode_t *in = fs_inode(i);
		if (in->type != 0 || fs_lock_write(t->tx, i) < 0)
			continue;
		int r = fs_mod(t, in, sizeof(*in));
		if (r < 0)
			return r;
		memset(in, 0, sizeof(*in));
		in->type = type;
		*out = i;
		return 0;
	}
	return QS_ENOSPC;
}

int
fs_ifree(fs_tx_t *t, uint32_t ino)
{
	int r = fs_truncate(t, ino);
	if (r < 0)
		return r;
	fs_inode(ino)->type = 0; /* fs_truncate named the whole inode */
	return 0;
}

/* ---- directories ---------------------------------------------------- */

int
fs_dir_entry(uint32_t dir, uint32_t index, dirent_t *out)
{
	if (fs_file_read(dir, index * sizeof(dirent_t), out, sizeof(*out)) !=
	    (int)sizeof(*out))
		return 0;
	out->name[FS_NAME_MAX - 1] = 0;
	return 1;
}

int
fs_dir_find(uint32_t dir, const char *name, uint32_t *ino)
{
	dirent_t e;
	for (uint32_t i = 0; fs_dir_entry(dir, i, &e); i++)
		if (e.inode && strcmp(e.name, name) == 0 && fs_inode(e.inode)) {
			*ino = e.inode;
			return (int)i;
		}
	return QS_ENOENT;
}

bool
fs_dir_empty(uint32_t dir)
{
	dirent_t e;
	for (uint32_t i = 0; fs_dir_entry(dir, i, &e); i++)
		if (e.inode)
			return false;
	return true;
}

int
fs_dir_add(fs_tx_t *t, uint32_t dir, const char *name, uint32_t ino)
{
	dirent_t e;
	uint32_t i = 0;
	while (fs_dir_entry(dir, i, &e) && e.inode)
		i++;
	memset(&e, 0, sizeof(e));
	e.inode = ino;
	strcpy(e.name, name);
	int r = fs_file_write(t, dir, i * sizeof(e), &e, sizeof(e));
	return r < 0 ? r : 0;
}

int
fs_dir_remove(fs_tx_t *t, uint32_t dir, const char *name)
{
	uint32_t ino;
	int i = fs_dir_find(dir, name, &ino);
	if (i < 0)
		return i;
	dirent_t e;
	memset(&e, 0, sizeof(e));
	int r = fs_file_write(t, dir, (uint32_t)i * sizeof(e), &e, sizeof(e));
	return r < 0 ? r : 0;
}

/* Copies the next component of *p into name; QS_ENAMETOOLONG if it is. */
static int
component(const char **p, char *name)
{
	while (**p == '/')
		(*p)++;
	size_t n = 0;
	while ((*p)[n] && (*p)[n] != '/')
		n++;
	if (n >= FS_NAME_MAX)
		return QS_ENAMETOOLONG;
	memcpy(name, *p, n);
	name[n] = 0;
	*p += n;
	while (**p == '/')
		(*p)++;
	return (int)n;
}

int
fs_walk(uint64_t tx, const char *path, uint32_t *dir, char *name)
{
	if (strnlen(path, FS_PATH_MAX) >= FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	uint32_t cur = ROOT_INO;
	int r = component(&path, name);
	while (r >= 0 && *path) {
		uint32_t next;
		if ((r = fs_lock_read(tx, cur)) < 0 ||
		    (r = fs_dir_find(cur, name, &next)) < 0)
			break;
		if (fs_inode(next)->type != FS_T_DIR) {
			r = QS_ENOTDIR;
			break;
		}
		cur = next;
		r = component(&path, name);
	}
	if (r < 0)
		return r;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return QS_EINVAL; /* no such links here */
	*dir = cur;
	return fs_lock_read(tx, cur);
}
