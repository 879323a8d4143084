/*
 * RVM: the library's state, initialisation and termination, options and
 * queries, segments and mapped regions. Transactions are in rvm_txn.c, the
 * LRVM log in rvm_log.c and rvm_trunc.c, Vista mode in rvm_vista.c; the
 * design is described in qs/rvm.h and at the top of each file.
 */
#include <stdlib.h>
#include <string.h>
#include "rvm_int.h"

struct rvm_state rvm;
qs_mutex_t rvm_lock = QS_MUTEX_INIT;
qs_mutex_t rvm_trunc_lock = QS_MUTEX_INIT;
qs_cond_t rvm_room = QS_COND_INIT;

static const char *const errors[] = {
	[RVM_SUCCESS] = "success",
	[RVM_EINIT] = "not initialized, or initialized twice",
	[RVM_ELOG] = "no usable log",
	[RVM_ELOG_FULL] = "the record does not fit in the log",
	[RVM_EIO] = "device I/O failed",
	[RVM_ENO_MEMORY] = "out of memory",
	[RVM_ERANGE] = "range outside the mapped regions",
	[RVM_ETID] = "no such transaction",
	[RVM_EMODE] = "mode does not fit the call",
	[RVM_EREGION] = "bad region",
	[RVM_EOPTIONS] = "bad options",
	[RVM_EUNCOMMITTED] = "uncommitted transactions on the region",
	[RVM_ENOT_FOUND] = "no such in-doubt transaction",
	[RVM_ECORRUPT] = "the log is damaged",
};

const char *
rvm_strerror(rvm_return_t r)
{
	if ((unsigned)r >= RVM_ERR_MAX)
		return "unknown RVM error";
	return errors[r];
}

static rvm_dev_t *
open_with(rvm_dev_open_fn fn, const char *name, int vista)
{
	return fn ? fn(name) : rvm_dev_open(name, vista);
}

rvm_dev_t *
rvm_open_dev(const char *name)
{
	return open_with(rvm.open_dev, name, rvm.vista);
}

static int
options_bad(const rvm_options_t *o)
{
	return !o || (o->flags & ~RVM_VISTA) || o->truncate_pct > 100;
}

/* With rvm_lock held. */
static rvm_seg_t *
seg_lookup(const char *name, uint32_t len)
{
	rvm_seg_t *s = rvm.segs;
	while (s && (strlen(s->name) != len || memcmp(s->name, name, len)))
		s = s->next;
	return s;
}

/* The segment device of that name, opened on first use; NULL if there is
 * none. Takes rvm_lock. */
rvm_seg_t *
seg_get(const char *name, uint32_t len)
{
	qs_mutex_lock(&rvm_lock);
	rvm_seg_t *s = seg_lookup(name, len);
	if (!s && (s = calloc(1, sizeof(*s))) != NULL) {
		s->name = malloc(len + 1);
		if (s->name) {
			memcpy(s->name, name, len);
			s->name[len] = '\0';
			s->dev = rvm_open_dev(s->name);
		}
		if (s->dev) {
			s->next = rvm.segs;
			rvm.segs = s;
		} else {
			free(s->name);
			free(s);
			s = NULL;
		}
	}
	qs_mutex_unlock(&rvm_lock);
	return s;
}

/* The mapped region holding segment bytes [off, off + len); rvm_lock held. */
rvm_map_t *
map_find(const rvm_seg_t *seg, uint64_t off, uint32_t len)
{
	for (rvm_map_t *m = rvm.maps; m; m = m->next)
		if (m->seg == seg && off >= m->offset &&
		    off + len <= m->offset + m->length)
			return m;
	return NULL;
}

/* The region holding [addr, addr + len), or NULL; rvm_lock held. */
rvm_map_t *
map_of(const void *addr, uint32_t len)
{
	uintptr_t a = (uintptr_t)addr;
	for (rvm_map_t *m = rvm.maps; m; m = m->next) {
		uintptr_t base = (uintptr_t)m->mem;
		if (a >= base && a - base <= m->length &&
		    len <= m->length - (a - base))
			return m;
	}
	return NULL;
}

static int
map_overlaps(const rvm_seg_t *seg, uint64_t off, uint32_t len)
{
	for (rvm_map_t *m = rvm.maps; m; m = m->next)
		if (m->seg == seg && off < m->offset + m->length &&
		    m->offset < off + len)
			return 1;
	return 0;
}

static void
state_free(void)
{
	while (rvm.maps) {
		rvm_map_t *m = rvm.maps;
		rvm.maps = m->next;
		if (!rvm.vista)
			free(m->mem);
		map_bits_free(m);
		free(m);
	}
	while (rvm.segs) {
		rvm_seg_t *s = rvm.segs;
		rvm.segs = s->next;
		s->dev->close(s->dev);
		free(s->name);
		free(s);
	}
	while (rvm.preps)
		prep_remove(rvm.preps);
	log_free();
	if (rvm.dev)
		rvm.dev->close(rvm.dev);
	free(rvm.log_name);
	memset(&rvm, 0, sizeof(rvm));
}

rvm_return_t
rvm_initialize(const char *version, rvm_options_t *options)
{
	(void)version;
	if (rvm.up)
		return RVM_EINIT;
	if (options_bad(options) || !options->log_dev)
		return RVM_EOPTIONS;
	memset(&rvm, 0, sizeof(rvm));
	memset(&options->damage, 0, sizeof(options->damage));
	rvm.vista = (options->flags & RVM_VISTA) != 0;
	rvm.open_dev = options->open_dev;
	rvm.truncate_pct = options->truncate_pct ? options->truncate_pct
						 : RVM_DEFAULT_PCT;
	rvm.log_buf_size = options->log_buf_size ? options->log_buf_size
						 : RVM_DEFAULT_BUF;
	rvm.next_tid = 1;
	uint32_t n = strlen(options->log_dev);
	rvm.log_name = malloc(n + 1);
	if (!rvm.log_name)
		return RVM_ENO_MEMORY;
	memcpy(rvm.log_name, options->log_dev, n + 1);
	const char *owner = node_owner(options->log_dev);
	rvm.dev = owner ? NULL : rvm_open_dev(options->log_dev);
	rvm_return_t r = RVM_ELOG;
	if (owner && rvm.vista)
		r = RVM_EOPTIONS; /* Vista has no redo log */
	else if (owner && (r = node_open(owner)) == RVM_SUCCESS)
		r = log_recover();
	else if (rvm.dev && rvm.vista)
		r = vista_open();
	else if (rvm.dev && (r = log_open(rvm.dev)) == RVM_SUCCESS)
		r = log_recover();
	if (r) {
		options->damage = rvm.damage;
		state_free();
		return r;
	}
	rvm.up = 1;
	return RVM_SUCCESS;
}

rvm_return_t
rvm_create_log(rvm_options_t *options, uint64_t log_len)
{
	if (rvm.up)
		return RVM_EINIT;
	if (options_bad(options) || !options->log_dev)
		return RVM_EOPTIONS;
	int vista = (options->flags & RVM_VISTA) != 0;
	if (node_owner(options->log_dev)) /* its log manager makes it */
		return vista ? RVM_EOPTIONS : RVM_SUCCESS;
	rvm_dev_t *dev = open_with(options->open_dev, options->log_dev, vista);
	if (!dev)
		return RVM_ELOG;
	rvm_return_t r = vista ? vista_create(dev, log_len)
			       : log_create(dev, log_len);
	dev->close(dev);
	return r;
}

static rvm_return_t
map_vista(rvm_region_t *region)
{
	if ((region->data_dev && strcmp(region->data_dev, rvm.log_name)) ||
	    region->offset < rvm.vista_len ||
	    region->offset > rvm.dev->size ||
	    region->length > rvm.dev->size - region->offset)
		return RVM_EREGION;
	rvm_map_t *m = calloc(1, sizeof(*m));
	if (!m)
		return RVM_ENO_MEMORY;
	m->offset = region->offset;
	m->length = region->length;
	m->mem = (uint8_t *)rvm.dev->mem + region->offset;
	qs_mutex_lock(&rvm_lock);
	int busy = map_overlaps(NULL, m->offset, m->length);
	if (!busy) {
		m->next = rvm.maps;
		rvm.maps = m;
		region->vmaddr = m->mem;
	}
	qs_mutex_unlock(&rvm_lock);
	if (busy)
		free(m);
	return busy ? RVM_EREGION : RVM_SUCCESS;
}

/*
 * LRVM: the region is read from the segment after a truncation, so the
 * segment holds every committed change (the log may hold some from an
 * earlier mapping). Holding rvm_trunc_lock keeps other epochs from writing
 * the segment meanwhile.
 */
static rvm_return_t
map_lrvm(rvm_region_t *region)
{
	rvm_return_t r;
	rvm_map_t *m = NULL;
	if (!region->data_dev || !strcmp(region->data_dev, rvm.log_name))
		return RVM_EREGION;
	qs_mutex_lock(&rvm_trunc_lock);
	rvm_seg_t *seg = seg_get(region->data_dev, strlen(region->data_dev));
	r = RVM_EREGION;
	if (!seg || region->offset > seg->dev->size ||
	    region->length > seg->dev->size - region->offset)
		goto out;
	qs_mutex_lock(&rvm_lock);
	int busy = map_overlaps(seg, region->offset, region->length);
	qs_mutex_unlock(&rvm_lock);
	if (busy)
		goto out;
	r = log_truncate_locked(0);
	if (r)
		goto out;
	r = RVM_ENO_MEMORY;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->mem = malloc(region->length)))
		goto out;
	m->seg = seg;
	m->offset = region->offset;
	m->length = region->length;
	if ((r = map_bits_alloc(m)) != RVM_SUCCESS)
		goto out;
	r = RVM_EIO;
	if (seg->dev->read(seg->dev, region->offset, m->mem,
			   region->length) < 0)
		goto out;
	qs_mutex_lock(&rvm_lock);
	m->next = rvm.maps;
	rvm.maps = m;
	qs_mutex_unlock(&rvm_lock);
	region->vmaddr = m->mem;
	m = NULL;
	r = RVM_SUCCESS;
out:
	trunc_unlock();
	if (m) {
		free(m->mem);
		map_bits_free(m);
	}
	free(m);
	return r;
}

/* Devices are opened with the open_dev given to rvm_initialize; options
 * may be NULL. */
rvm_return_t
rvm_map(rvm_region_t *region, rvm_options_t *options)
{
	(void)options;
	if (!rvm.up)
		return RVM_EINIT;
	if (!region || !region->length || region->offset % RVM_SECTOR ||
	    region->length % RVM_SECTOR)
		return RVM_EREGION;
	return rvm.vista ? map_vista(region) : map_lrvm(region);
}

static int
map_busy(const rvm_map_t *m)
{
	for (rvm_txn_t *t = rvm.txns; t; t = t->next)
		if (txn_touches(t, m))
			return 1;
	return 0;
}

/*
 * Waits for an epoch under way, which may be writing from the region's
 * memory. Commits the region had since the last epoch are left to the
 * log: the next epoch applies it all (rvm_mem.c).
 */
rvm_return_t
rvm_unmap(rvm_region_t *region)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!region)
		return RVM_EREGION;
	qs_mutex_lock(&rvm_trunc_lock);
	qs_mutex_lock(&rvm_lock);
	rvm_map_t **pp = &rvm.maps;
	while (*pp && (*pp)->mem != region->vmaddr)
		pp = &(*pp)->next;
	rvm_map_t *m = *pp;
	rvm_return_t r = !m ? RVM_EREGION
			    : map_busy(m) ? RVM_EUNCOMMITTED : RVM_SUCCESS;
	if (!r) {
		*pp = m->next;
		if (m->n_dirty)
			rvm.log.untracked = rvm.log.tail;
	}
	qs_mutex_unlock(&rvm_lock);
	trunc_unlock();
	if (!r) {
		if (!rvm.vista)
			free(m->mem);
		map_bits_free(m);
		free(m);
	}
	return r;
}

rvm_return_t
rvm_flush(void)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (rvm.vista)
		return RVM_SUCCESS;
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r = log_force();
	qs_mutex_unlock(&rvm_lock);
	return r;
}

rvm_return_t
rvm_truncate(void)
{
	if (!rvm.up)
		return RVM_EINIT;
	return rvm.vista ? RVM_SUCCESS : log_truncate();
}

static uint32_t
lrvm_in_doubt(uint64_t *gtids, uint32_t max)
{
	uint32_t n = 0;
	for (rvm_prep_t *p = rvm.preps; p; p = p->next)
		if (!p->txn && n++ < max)
			gtids[n - 1] = p->gtid;
	return n;
}

rvm_return_t
rvm_query(rvm_options_t *options, rvm_region_t *region)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!options)
		return RVM_EOPTIONS;
	qs_mutex_lock(&rvm_lock);
	rvm_map_t *m = rvm.maps;
	while (region && m && m->mem != region->vmaddr)
		m = m->next;
	if (region && !m) {
		qs_mutex_unlock(&rvm_lock);
		return RVM_EREGION;
	}
	options->flags = rvm.vista ? RVM_VISTA : 0;
	options->truncate_pct = rvm.truncate_pct;
	options->log_buf_size = rvm.log_buf_size;
	options->n_uncommitted = 0;
	for (rvm_txn_t *t = rvm.txns; t; t = t->next)
		if (!region || txn_touches(t, m))
			options->n_uncommitted++;
	if (rvm.vista) {
		vista_usage(&options->log_size, &options->log_used);
		options->n_in_doubt = vista_in_doubt(options->in_doubt,
						     RVM_IN_DOUBT_MAX);
	} else {
		options->log_size = rvm.log.area;
		options->log_used = rvm.log.tail - rvm.log.head;
		options->n_in_doubt = lrvm_in_doubt(options->in_doubt,
						    RVM_IN_DOUBT_MAX);
	}
	options->stats = rvm.stats;
	qs_mutex_unlock(&rvm_lock);
	return RVM_SUCCESS;
}

rvm_return_t
rvm_set_options(rvm_options_t *options)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (options_bad(options))
		return RVM_EOPTIONS;
	qs_mutex_lock(&rvm_lock);
	rvm.truncate_pct = options->truncate_pct ? options->truncate_pct
						 : RVM_DEFAULT_PCT;
	rvm.log_buf_size = options->log_buf_size ? options->log_buf_size
						 : RVM_DEFAULT_BUF;
	qs_mutex_unlock(&rvm_lock);
	return RVM_SUCCESS;
}

rvm_return_t
rvm_terminate(void)
{
	if (!rvm.up)
		return RVM_EINIT;
	qs_mutex_lock(&rvm_trunc_lock);
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r = rvm.txns ? RVM_EUNCOMMITTED
		       : rvm.vista ? RVM_SUCCESS : log_force();
	int stop = r != RVM_EUNCOMMITTED;
	qs_mutex_unlock(&rvm_lock);
	/* The durable end into the status block: damage to the last records
	 * is then found, though no later record says they were forced. */
	if (!r && !rvm.vista)
		r = log_write_status(rvm.log.head, rvm.log.head_seq);
	trunc_unlock();
	if (stop)
		state_free();
	return r;
}
