/* Internals of the sim backend, shared by sim.c (ops and model),
 * sim_spec.c (options and fault specs) and sim_state.c (the state file). */
#ifndef XB_VMM_SIM_PRIV_H
#define XB_VMM_SIM_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "vmm/backend.h"

#define SIM_NO_REQ      (-1)    /* sim_dom.pending: no shutdown request */
#define SIM_DOMID_MAX   0x7fef  /* Xen's DOMID_FIRST_RESERVED - 1 */

/* Operations fail=OP can break. */
enum sim_op {
	SIM_OP_CREATE,
	SIM_OP_PAUSE,
	SIM_OP_UNPAUSE,
	SIM_OP_DESTROY,
	SIM_OP_SHUTDOWN,
	SIM_OP_MEMORY,
	SIM_OP_VCPUS,
	SIM_OP_LIST,
	SIM_OP_INFO,
	SIM_OP_STATS,
	SIM_OP_CONSOLE,
	SIM_OP_HOST,
	SIM_OP_PERSIST,
	SIM_OP_MAX,
};

struct sim_dom {
	uint32_t domid;
	char uuid[VMM_UUID_LEN + 1];
	char name[VMM_NAME_MAX];
	enum vmm_domain_type type;
	enum vmm_state state;
	enum vmm_shutdown_reason reason;
	bool booted;                    /* unpaused at least once */
	bool cooperative;
	uint64_t delay_ms;              /* shutdown request -> shutdown */
	uint64_t mem_max, mem_target, mem_actual;
	unsigned vcpus_max, vcpus_online;
	uint64_t run_ms;                /* time spent running: device counters */
	uint64_t vcpu_ms[VMM_MAX_VCPUS];/* time each vcpu spent online+running */
	int pending;                    /* enum vmm_shutdown_request or SIM_NO_REQ */
	uint64_t due_ms;                /* when a cooperative guest acts on it */
	enum vmm_shutdown_reason self_stop;     /* stop=: NONE, or what it does */
	uint64_t self_due;              /* ... and when (running time counts) */
	unsigned nr_vifs;
	uint32_t vif_devid[VMM_MAX_DEVS];
	unsigned nr_vbds;
	char vbd_vdev[VMM_MAX_DEVS][VMM_VDEV_MAX];
	struct buf console;             /* unread output, at most console_max */
	bool console_queued;            /* a CONSOLE event is pending */
};

/* guest=UUID:... given before the domain exists. */
struct sim_guest {
	char uuid[VMM_UUID_LEN + 1];
	bool cooperative;
	uint64_t delay_ms;
	enum vmm_shutdown_reason stop;  /* stop=UUID:REASON:MS after each boot */
	uint64_t stop_ms;
};

struct sim {
	struct vmm vmm;                 /* first: a struct vmm * is a struct sim * */
	pthread_mutex_t lock;           /* everything below */

	/* configuration */
	char *state_dir, *state_path, *state_tmp;
	char boot_id[VMM_BOOT_ID_MAX];  /* DIR/boot_id; a new boot: a new one */
	int lock_fd;
	bool opened;                    /* open succeeded: close saves state */
	bool real_clock;
	uint64_t mem_total, dom0_mem;
	unsigned nr_cpus;
	uint64_t delay_ms;
	size_t console_max;
	bool check_paths;
	uint64_t create_ms;             /* create_delay: a slow domain build */

	/* the machine */
	uint64_t now_ms;                /* manual clock; last reading if real */
	uint64_t settled_ms;            /* counters are integrated up to here */
	uint64_t pcpu_busy_ns[VMM_MAX_PCPUS], pcpu_idle_ns[VMM_MAX_PCPUS];
	uint32_t next_domid;
	struct sim_dom **doms;          /* by ascending domid; doms[0] is dom0 */
	size_t nr_doms, cap_doms;

	/* faults */
	unsigned fail_in[SIM_OP_MAX];   /* 0: armed off; 1: the next call fails */
	bool nomem;
	struct sim_guest *guests;
	size_t nr_guests;

	/* notification */
	struct vmm_event *evq;
	size_t nr_ev, cap_ev;
	int epfd, evfd, tfd;
};

static inline struct sim *to_sim(struct vmm *v)
{
	return (struct sim *)v;
}

/* sim.c: the ops. */
extern const struct vmm_ops sim_ops;

/* sim_model.c: the model.  All *_locked functions need s->lock held. */
uint64_t sim_mono_ms(void);
void sim_drain(int fd);                 /* empties an eventfd or timerfd */
struct sim_dom *sim_dom_new(void);
void sim_dom_free(struct sim_dom *d);   /* idempotent on NULL */
struct sim_dom *sim_dom0_new(struct sim *s);
struct sim_dom *sim_find_locked(struct sim *s, uint32_t domid);
struct sim_dom *sim_find_uuid_locked(struct sim *s, const char *uuid);
int sim_insert_locked(struct sim *s, struct sim_dom *d);
void sim_remove_locked(struct sim *s, struct sim_dom *d);
uint64_t sim_free_memory_locked(struct sim *s);
/* Queues an event; the event fd becomes readable. */
void sim_queue_event_locked(struct sim *s, enum vmm_event_type type,
			    const struct sim_dom *d);
/* Appends a line to d's console (bounded) and queues a CONSOLE event. */
void sim_console_add_locked(struct sim *s, struct sim_dom *d,
			    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After bytes went into d->console: the oldest dropped beyond console_max,
 * a CONSOLE event queued. */
void sim_console_added_locked(struct sim *s, struct sim_dom *d);
/* Processes what falls due up to s->now_ms; re-arms the timerfd. */
void sim_run_due_locked(struct sim *s);
/* Reads the clock (real) and runs what fell due. */
void sim_sync_locked(struct sim *s);
int sim_advance_locked(struct sim *s, uint64_t ms);
int sim_guest_shutdown_locked(struct sim *s, struct sim_dom *d,
			      enum vmm_shutdown_reason why, const char *what);
void sim_set_behaviour_locked(struct sim *s, struct sim_dom *d,
			      bool cooperative, uint64_t delay_ms);
/* Writes the state file if there is one; fail=persist applies. */
int sim_persist_locked(struct sim *s, char *err, size_t errlen);
void sim_fill_info(const struct sim_dom *d, struct vmm_domain_info *out);
void sim_fill_stats(const struct sim_dom *d, struct vmm_domain_stats *out);

/* sim_spec.c: options and fault specs.  phase: SIM_SPEC_OPEN_CONFIG and
 * SIM_SPEC_OPEN_ACTIONS split vmm_open's opts around loading the state
 * file; SIM_SPEC_RUNTIME is sim_inject. */
enum sim_spec_phase {
	SIM_SPEC_OPEN_CONFIG,
	SIM_SPEC_OPEN_ACTIONS,
	SIM_SPEC_RUNTIME,
};
int sim_spec_apply_locked(struct sim *s, const char *spec,
			  enum sim_spec_phase phase, char *err, size_t errlen);
int sim_parse_size(const char *s, uint64_t *out);
int sim_parse_u64(const char *s, uint64_t *out);
const char *sim_op_name(enum sim_op op);

/* sim_state.c: the state file. */
int sim_state_load(struct sim *s, char *err, size_t errlen);
int sim_state_save(struct sim *s, char *err, size_t errlen);

#endif
