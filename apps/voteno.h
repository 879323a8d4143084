/* The test participant's one request: join the sender's transaction. */
#ifndef APPS_VOTENO_H
#define APPS_VOTENO_H

#define VOTENO_QUEUE "voteno"
#define VOTENO_OP_JOIN 1

#endif
