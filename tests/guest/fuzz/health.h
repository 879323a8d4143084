/* The servers around a run (health.c). */
#ifndef TESTS_GUEST_FUZZ_HEALTH_H
#define TESTS_GUEST_FUZZ_HEALTH_H

#include <stdint.h>
#include <qs/counter.h>
#include <qs/disk.h>
#include <qs/fs.h>
#include <qs/tm.h>
#include <qs/wm.h>

enum { SRV_TM, SRV_FS, SRV_WM, SRV_DISK, SRV_CM, SRV_ECHO, SRV_COUNTER, NSRV };
extern const char *const SRV_NAMES[NSRV];

typedef struct {
	int pid[NSRV]; /* the owner of each one's queue; 0: none */
	int threads[NSRV]; /* threads offered on it, idle or busy */
	int ok_tm, ok_fs, ok_wm, ok_disk, ok_counter; /* their stats answered */
	tm_stats_t tm;
	fs_df_t fs;
	wm_stats_t wm;
	disk_stats_t disk;
	counter_state_t counter;
} srv_snap_t;

void srv_snap(srv_snap_t *s);
int srv_crumbs_back(const srv_snap_t *s0, srv_snap_t *s, uint32_t ms);
int srv_alive(const srv_snap_t *s0, const srv_snap_t *s);
int srv_counted(const srv_snap_t *s0, const srv_snap_t *s);

int tm_serves(void);
int fs_serves(void);
int wm_serves(void);
int others_serve(const srv_snap_t *s0);

int fs_names(const char *dir, char names[][FS_NAME_MAX], int max);
int fs_tidy(char names[][FS_NAME_MAX], int n);

#endif
