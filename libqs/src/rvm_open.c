/*
 * A recoverable server's start: open its RVM log, create it on a new
 * node, refuse it when it is damaged (rvm_open_log in qs/rvm.h). The file
 * server starts this way; so should any server that keeps an RVM log.
 *
 * A device never formatted (RVM_ELOG from rvm_initialize: its status
 * sectors, or Vista header, are all zero) gets a new log, as a new node
 * needs. Anything else that fails is never formatted on a guess: a
 * damaged log still holds commits that a person may want back, and a
 * read error may pass. The server says which log, why, and how to format
 * it, and stops. Formatting is explicit: the boot argument format= names
 * the logs that may be formatted when they cannot be opened. An intact
 * log is recovered as usual even when named, so the argument does no harm
 * if it stays set while a server restarts.
 */
#include <stdio.h>
#include <string.h>
#include "rvm_int.h"

static void
refuse(const char *who, const char *dev, rvm_return_t r)
{
	printf("%s: refusing the log %s: %s; nothing was changed\n", who, dev,
	       rvm_strerror(r));
	printf("%s: to start over with an empty log, start with the boot "
	       "argument format=%s (tools/bin/qsnet restart-node N --arg "
	       "format=%s); what the log holds is lost: commits not yet in "
	       "the segments, which may hold parts of them (LRVM), the undo "
	       "of transactions a crash interrupted (Vista)\n", who, dev,
	       dev);
}

/* Whether the device's first two sectors are all zero: rvm_initialize's
 * RVM_ELOG also covers a device it failed to open, and a device that then
 * opens fine must still look new before it is formatted. */
static int
blank(rvm_dev_t *d)
{
	uint8_t b[2 * RVM_SECTOR];
	if (d->size < sizeof(b) || d->read(d, 0, b, sizeof(b)) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(b); i++)
		if (b[i])
			return 0;
	return 1;
}

rvm_return_t
rvm_open_log(const char *who, rvm_options_t *o, uint64_t log_len,
	     const char *format)
{
	rvm_return_t r = rvm_initialize("qs", o);
	if (r == RVM_SUCCESS)
		return r;
	if (node_owner(o->log_dev)) {
		/* the node log's manager formats it, and says why it cannot */
		printf("%s: cannot use the node log as %s: %s\n", who,
		       o->log_dev, rvm_strerror(r));
		return r;
	}
	if (r != RVM_ELOG && r != RVM_ECORRUPT && r != RVM_EIO) {
		printf("%s: cannot open the log %s: %s\n", who, o->log_dev,
		       rvm_strerror(r));
		return r;
	}
	int vista = (o->flags & RVM_VISTA) != 0;
	rvm_dev_t *d = o->open_dev ? o->open_dev(o->log_dev)
				   : rvm_dev_open(o->log_dev, vista);
	if (!d) {
		printf("%s: no device %s\n", who, o->log_dev);
		return RVM_ELOG;
	}
	uint64_t len = log_len ? log_len : d->size;
	if (r == RVM_ELOG && !blank(d))
		r = RVM_ECORRUPT; /* not new after all: never format it */
	d->close(d);
	if (r == RVM_ELOG) {
		printf("%s: %s holds no log yet: creating one\n", who,
		       o->log_dev);
	} else if ((r == RVM_ECORRUPT || r == RVM_EIO) &&
		   qs_list_has(format, o->log_dev)) {
		printf("%s: %s: %s; formatting it, as format=%s asks\n", who,
		       o->log_dev, rvm_strerror(r), format);
	} else {
		refuse(who, o->log_dev, r);
		return r;
	}
	r = rvm_create_log(o, len);
	if (r == RVM_SUCCESS)
		r = rvm_initialize("qs", o);
	if (r != RVM_SUCCESS)
		printf("%s: cannot create the log %s: %s\n", who, o->log_dev,
		       rvm_strerror(r));
	return r;
}
