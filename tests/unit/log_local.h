/* The node log in the test's process (log_local.c). */
#ifndef QS_TEST_LOG_LOCAL_H
#define QS_TEST_LOG_LOCAL_H

#define LOG_LOCAL_DEV "log.node"

/* Forgets the open store, as a restarted log manager would. */
void log_local_reset(void);
/* The next forced append is made, but answers err: as a device error
 * after the write, or a log manager that died, would. */
void log_local_fail_force(int err);
/* The next release is refused with err, and not made. */
void log_local_fail_release(int err);

#endif
