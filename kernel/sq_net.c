/*
 * The kernel's side of queues on other nodes. The communication manager
 * makes itself the network agent by creating QS_NET_QUEUE; from then on
 *
 *   - a lookup of a name this node does not have becomes a request to the
 *     agent (QS_NOTICE_LOOKUP, the name as data), and the caller blocks
 *     until the agent answers with a queue id or an error;
 *   - the agent makes a proxy for a queue it found elsewhere (SYS_SQ_PROXY):
 *     a queue entry under that name whose requests are not served here but
 *     delivered, header intact, to the agent's queue, so client code cannot
 *     tell a remote queue from a local one;
 *   - the agent injects requests that came from other nodes
 *     (SYS_SQ_INJECT): asynchronous requests of its own, but carrying the
 *     remote client's node, pid and transaction, which the kernel would
 *     otherwise stamp.
 *
 * When the agent dies, its proxies go with it (their requests fail with
 * QS_EUNREACH) and names are node-local again.
 */
#include "kernel.h"
#include "cpu.h"
#include "boot.h"
#include "heap.h"
#include "sq.h"
#include "syscall.h"

sq_t *net_q;

bool
sq_net_agent(const proc_t *p)
{
	return net_q && net_q->owner == p->pid;
}

int
sq_lookup_remote(const char *name)
{
	proc_t *p = current->proc;
	uint32_t len = (uint32_t)strlen(name) + 1;

	if (!net_q || sq_net_agent(p))
		return QS_ENOENT; /* the agent itself asks only locally */
	sq_req_t *r = kzalloc(sizeof(*r));
	if (!r || !(r->data = kmalloc(len))) {
		kfree(r);
		return QS_ENOMEM;
	}
	memcpy(r->data, name, len);
	r->hdr.opcode = QS_NOTICE_LOOKUP;
	r->hdr.len = len;
	req_stamp(r, net_q, p, current->tx);
	r->caller = current;
	enqueue(net_q, r); /* past the depth limit, as lookups are few */
	while (r->state != RQ_DONE)
		sched_block(&p->sq_done, -1);
	int status = r->rhdr.status;
	req_free(r);
	if (status > 0 || status == QS_EUNREACH || status == QS_ELIMIT)
		return status;
	return QS_ENOENT;
}

int
sys_sq_proxy(trap_frame_t *f)
{
	uint32_t uname = f->ebx, node = f->ecx;
	char name[QS_NAME_MAX];
	sq_t *q;

	if (!sq_net_agent(current->proc))
		return QS_EPERM;
	if (node == boot_node_id())
		return QS_EINVAL;
	int qid = sq_name_from_user(name, uname);
	/* a reserved name is this node's server's, even while it is down */
	if (qid >= 0 && authority_reserved(name))
		qid = authority_refuse(current->proc, QS_EPERM);
	if (qid >= 0)
		qid = sq_make(name, 0, current->proc->pid, &q);
	if (qid < 0)
		return qid;
	q->proxy = true;
	q->node = node;
	return qid;
}

int
sys_sq_inject(trap_frame_t *f)
{
	int qid = (int)f->ebx;
	uint32_t umsg = f->ecx;
	proc_t *p = current->proc;
	int err;

	if (!sq_net_agent(p))
		return QS_EPERM;
	sq_t *q = sq_find(qid);
	if (q && q->proxy)
		return QS_ENOENT; /* served elsewhere: never forward twice */
	sq_req_t *r = send_common(qid, umsg, false, true, &err);
	if (!r)
		return err;
	req_async(p, 1);
	return (int)r->hdr.rid;
}
