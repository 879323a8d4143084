/*
 * Forced into every unit-test translation unit with -include. It renames
 * the libqs functions that also exist in the host libc, so the test binary
 * links our implementations under qs_* names next to glibc and the
 * sanitizer runtime (which intercept the real names) without clashing,
 * and the tests exercise our code rather than glibc's.
 *
 * printf, vprintf, puts, putchar and exit are deliberately not renamed:
 * libqs only declares them, and in the tests the host libc supplies them.
 */
#ifndef QS_TEST_RENAME_H
#define QS_TEST_RENAME_H

#define memcpy qs_memcpy
#define memmove qs_memmove
#define memset qs_memset
#define memcmp qs_memcmp
#define strlen qs_strlen
#define strnlen qs_strnlen
#define strcmp qs_strcmp
#define strncmp qs_strncmp
#define strcpy qs_strcpy
#define strncpy qs_strncpy
#define strlcpy qs_strlcpy
#define strchr qs_strchr
#define strrchr qs_strrchr
#define strstr qs_strstr
#define strtok_r qs_strtok_r

#define vsnprintf qs_vsnprintf
#define snprintf qs_snprintf

#define atoi qs_atoi
#define strtol qs_strtol
#define strtoul qs_strtoul
#define abs qs_abs
#define labs qs_labs
#define rand qs_rand
#define srand qs_srand
#define qsort qs_qsort
#define malloc qs_malloc
#define free qs_free
#define calloc qs_calloc
#define realloc qs_realloc

/* Lets a test catch the heap's abort() on a bad free and carry on. */
#define abort qs_test_abort

#endif
