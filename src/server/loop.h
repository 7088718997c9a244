/* A small single-threaded epoll event loop (in the spirit of redis' ae.c).
 * File events only; timers are deadlines the caller folds into the wait
 * through a before-sleep hook that returns how long it may sleep. */
#ifndef XB_LOOP_H
#define XB_LOOP_H

#include <stdint.h>

#define LOOP_READ  1
#define LOOP_WRITE 2

typedef void loop_fn(int fd, int events, void *opaque);

int loop_init(void);
void loop_dispose(void);                /* idempotent */
/* Register fd (or change its mask); mask 0 removes it.  0, or -1 with
 * errno (the caller must handle it: the fd is then not watched). */
int loop_watch(int fd, int mask, loop_fn *fn, void *opaque);
void loop_unwatch(int fd);
/* SIGTERM and SIGINT set *stop.  They are blocked, and let in only while
 * loop_run waits, so that one arriving between its check of *stop and the
 * wait is not lost.  Call before starting threads (they inherit the mask).
 * 0, or -1 with errno. */
int loop_stop_on_signals(volatile int *stop);
/* before_sleep returns the ms the loop may sleep (-1: until an event). */
void loop_run(int64_t (*before_sleep)(void), volatile int *stop);

#endif
