/*
 * The types of <time.h> only: there is no calendar clock here (qs_uptime_ms
 * in <qs/sys.h> is the time since boot). For code written against the C
 * library, such as libtomcrypt, whose headers name the types.
 */
#ifndef QS_TIME_H
#define QS_TIME_H

typedef long time_t;
typedef long clock_t;

#endif
