/*
 * voteno (apps/voteno.c), the demo recoverable participant: its one
 * request joins the sender's transaction, and it votes as told.
 */
#ifndef QS_VOTENO_H
#define QS_VOTENO_H

#define VOTENO_QUEUE "voteno"
#define VOTENO_OP_JOIN 1

#endif
