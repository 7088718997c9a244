/* Worker threads for slow work, so the event loop keeps serving other
 * clients meanwhile: one per lane.  WORKER_SLOW (0, the default) runs
 * blocking backend calls (domain builds, destroys); WORKER_CPU runs CPU
 * work (password hashes) at nice 10, so that neither waits for the other
 * and hashing yields the CPU to the loop and the builds.
 *
 * The loop thread submits a job; its lane's thread calls job->run;
 * the loop thread gets job->done back when it handles worker_fd().  A job
 * is self-contained: run() must not touch anything the loop thread owns
 * (the datamodel, the store, calls).  Progress the worker reports with
 * worker_progress() reaches job->progress in the loop thread, coalesced.
 *
 * Every submitted job gets exactly one done() call: after run(), or with
 * job->cancelled set when worker_stop() found it still queued.  Without a
 * running worker (worker_start never called: the fuzzer, unit tests) a
 * submit runs the job at once in the caller's thread, done() included, and
 * sets job->inline_run, so a caller can finish synchronously.
 *
 * The jobs of a lane run one at a time, in submission order.  A lane's
 * queue is unbounded: its submitters bound it (api/session.c).
 *
 * worker_cancel() takes a job back while it is still queued (its done() is
 * then the caller's business), or asks a running job to stop: run() polls
 * worker_cancelled() between its steps and decides what stopping means. */
#ifndef XB_WORKER_H
#define XB_WORKER_H

enum { WORKER_SLOW, WORKER_CPU, WORKER_LANES };

struct job {
	struct job *next;               /* worker's queues */
	int lane;                       /* WORKER_SLOW (0) or WORKER_CPU */
	void (*run)(struct job *j);     /* worker thread */
	void (*done)(struct job *j);    /* loop thread */
	void (*progress)(struct job *j, double p);      /* loop thread; may be NULL */
	double progress_now;            /* written by the worker, under its lock */
	double progress_seen;           /* last value passed to progress() */
	int cancelled;
	int cancel_asked;               /* under the worker's lock */
	int inline_run;
};

/* 0, or a negative errno (no thread, no eventfd).  Idempotent. */
int worker_start(void);
/* Waits for the running jobs, cancels queued ones, delivers every pending
 * done() and stops the threads.  Idempotent; submits after it run inline. */
void worker_stop(void);
/* Readable when done()s or progress are pending; -1 without a worker. */
int worker_fd(void);
/* Loop thread: call when worker_fd() is readable. */
void worker_handle(void);
/* Loop thread. */
void worker_submit(struct job *j);
/* Worker thread, from run(): p in 0..1. */
void worker_progress(struct job *j, double p);
/* Loop thread: 1 if j was still queued (it is out of the queue, cancelled
 * set, and no done() will come: call it yourself), 0 if it runs (it is
 * asked to stop; its done() comes as usual), -1 if it has run already. */
int worker_cancel(struct job *j);
/* Worker thread, from run(): whether worker_cancel() asked j to stop. */
int worker_cancelled(struct job *j);

#endif
