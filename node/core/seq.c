// SPDX-License-Identifier: Apache-2.0
// The one owner of this city's sequence counter: reserve, hand back, observe.
#include "core/node.h"
#include "core/seq.h"

void
seq_init(struct node *n, uint64_t last)
{
	n->seq.next = last + 1;
	n->seq.floor = last + 1;
}

uint64_t
seq_next(const struct node *n)
{
	return n->seq.next;
}

uint64_t
seq_reserve(struct node *n, size_t count)
{
	uint64_t first = n->seq.next;

	n->seq.next += count;
	return first;
}

void
seq_hand_back(struct node *n, uint64_t first, uint64_t end)
{
	/* Never below a seq seen stored: one observed inside the reservation
	 * (or between its parts) stays taken. */
	if (end != 0 && first < end && n->seq.next == end)
		n->seq.next = first > n->seq.floor ? first : n->seq.floor;
}

void
seq_observe(struct node *n, uint64_t seq)
{
	if (seq >= n->seq.floor)
		n->seq.floor = seq + 1;
	if (seq >= n->seq.next)
		n->seq.next = seq + 1;
}
