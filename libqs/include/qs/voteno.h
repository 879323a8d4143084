/*
 * voteno (apps/voteno.c), the demo recoverable participant: its one
 * request joins the sender's transaction, and it votes as told.
 */
#ifndef QS_VOTENO_H
#define QS_VOTENO_H

#define VOTENO_QUEUE "voteno"
/* No data -> 0, or qs_tx_join's error (QS_EABORTED, QS_ENOSPC, ...);
 * QS_EINVAL with data, QS_ENOSYS for any other opcode. */
#define VOTENO_OP_JOIN 1

#endif
