/*
 * Per-client rate limiting: a token bucket per client in a table of
 * fixed size.
 *
 * Clients.  An IPv4 client is its address, an IPv6 client its prefix of
 * ipv6_prefixlen bits.  Every key is 16 bytes: IPv4 as ::ffff:a.b.c.d, so
 * an IPv4 client counts once whether it reached an IPv4 or a dual-stack
 * socket.  Keys cannot collide across families: an IPv6 address inside
 * ::ffff:0:0/96 is taken as IPv4, and masking an address outside it
 * keeps it outside (bit 95 is zeroed, or the /96 is kept).
 *
 * Table.  Entries are one cache line each, in an array allocated (and
 * touched, so the reply path never faults a page in) at creation.  An
 * open-addressing index of twice as many slots or more, linear probing,
 * finds them: each slot holds 32 bits of the client's hash and the entry
 * number, so a probe rarely reads an entry that is not the client's.  The
 * hash is SipHash-2-4 (libsodium's crypto_shorthash) under a random key,
 * so nobody outside can choose addresses that pile into one probe run.
 * Entries are on a doubly linked list by index, most recently seen first;
 * when the table is full the last one makes room, and its slot is removed
 * by shifting its run back, so no tombstones ever build up.
 *
 * Buckets.  Integer nanoseconds as the generic cell rate algorithm
 * (GCRA), which is a token bucket kept as one number: the "theoretical
 * arrival time" tat.  A request costs interval = 1e9 / rate ns; the bucket
 * holds burst * interval ns; a request at t passes when, after paying,
 * tat would be at most t + burst * interval.  tat <= t means a full
 * bucket, so idle clients need no refill step and nothing drifts.  A
 * limited request costs nothing.  Each entry keeps the latest time it
 * saw, and time before that counts as that time: a clock that steps back
 * refills nothing.  With the bucket at most 2^62 ns (146 years) and now_ns
 * below 2^63, no sum overflows.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define RL_MAX_CLIENTS	(1U << 30)	/* entry numbers fit 32 bits */
#define RL_MAX_BUCKET	4611686018427387904.0	/* 2^62 ns */
#define RL_NIL		UINT32_MAX
#define RL_LINE		64

struct rl_entry {
	uint64_t	key[2];		/* ::ffff:a.b.c.d or the v6 prefix */
	uint64_t	tat;		/* bucket empty until then */
	uint64_t	last_ns;	/* latest time seen */
	uint64_t	requests;
	uint64_t	limited;
	uint32_t	prev;		/* more recently seen */
	uint32_t	next;		/* less recently seen */
	uint32_t	hash;		/* low bits pick the home slot */
	uint32_t	unused;
};

_Static_assert(sizeof(struct rl_entry) == RL_LINE,
    "a table entry should be one cache line");

struct ratelimit {
	struct rl_entry	*entries;
	uint64_t	*slots;		/* 0 or hash << 32 | entry + 1 */
	size_t		 slot_mask;
	uint32_t	 max;
	uint32_t	 used;
	uint32_t	 head;		/* most recently seen */
	uint32_t	 tail;		/* least recently seen */
	uint64_t	 evictions;
	uint64_t	 interval;	/* ns a request costs */
	uint64_t	 tolerance;	/* bucket size less one request, ns */
	uint64_t	 mask6[2];	/* keeps ipv6_prefixlen bits */
	unsigned int	 prefixlen6;
	unsigned char	 hkey[crypto_shorthash_KEYBYTES];
};

static int		 client_key(const struct ratelimit *,
			    const struct sockaddr *, uint64_t[2]);
static uint32_t		 key_hash(const struct ratelimit *,
			    const uint64_t[2]);
static struct rl_entry	*lookup(struct ratelimit *, const uint64_t[2],
			    uint32_t, size_t *);
static void		 slot_remove(struct ratelimit *, uint32_t);
static size_t		 slot_free(const struct ratelimit *, uint32_t);
static void		 lru_unlink(struct ratelimit *, struct rl_entry *);
static void		 lru_push(struct ratelimit *, struct rl_entry *,
			    uint32_t);
static struct rl_entry	*insert(struct ratelimit *, const uint64_t[2],
			    uint32_t, size_t, uint64_t);
static void		 entry_client(const struct ratelimit *,
			    const struct rl_entry *,
			    struct ratelimit_client *);
static int		 client_before(const struct ratelimit_client *,
			    const struct ratelimit_client *);
static void		 heap_down(struct ratelimit_client *, size_t, size_t);
static void		 heap_up(struct ratelimit_client *, size_t);
static void		 client_swap(struct ratelimit_client *,
			    struct ratelimit_client *);

/* A rate and a burst in whole nanoseconds; -1 (EINVAL) if out of range. */
static int
rate_params(double rate, double burst, uint64_t *interval_ns,
    uint64_t *tolerance_ns)
{
	double	 interval, bucket;

	if (!(rate > 0 && rate <= 1e9) || !(burst >= 1)) {
		errno = EINVAL;
		return -1;
	}
	/* Whole nanoseconds, rounded: rate 3 is 333333333 ns a request. */
	interval = 1e9 / rate;
	if (!(interval <= RL_MAX_BUCKET)) {
		errno = EINVAL;
		return -1;
	}
	interval = (double)(uint64_t)(interval + 0.5);
	bucket = burst * interval;
	if (!(bucket <= RL_MAX_BUCKET)) {
		errno = EINVAL;
		return -1;
	}
	bucket = (double)(uint64_t)(bucket + 0.5);
	*interval_ns = (uint64_t)interval;
	*tolerance_ns = (uint64_t)bucket - *interval_ns;
	return 0;
}

struct ratelimit *
ratelimit_new(const struct ratelimit_conf *conf)
{
	struct ratelimit	*rl;
	uint8_t			 mask[16];
	uint64_t		 interval, tolerance;
	size_t			 nslots, i;
	void			*p;

	if (conf == NULL || conf->max_clients < 1 ||
	    conf->max_clients > RL_MAX_CLIENTS ||
	    conf->ipv6_prefixlen < 32 || conf->ipv6_prefixlen > 128) {
		errno = EINVAL;
		return NULL;
	}
	if (rate_params(conf->rate, conf->burst, &interval, &tolerance) == -1)
		return NULL;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	rl->interval = interval;
	rl->tolerance = tolerance;
	rl->max = (uint32_t)conf->max_clients;
	rl->head = rl->tail = RL_NIL;
	rl->prefixlen6 = conf->ipv6_prefixlen;
	memset(mask, 0, sizeof(mask));
	for (i = 0; i < conf->ipv6_prefixlen; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	memcpy(rl->mask6, mask, sizeof(rl->mask6));
	arc4random_buf(rl->hkey, sizeof(rl->hkey));

	/* At most half the slots in use keeps probe runs short. */
	for (nslots = 2; nslots < 2 * (size_t)rl->max; nslots *= 2)
		;
	rl->slot_mask = nslots - 1;
	/* nslots >= 2 * max: this bounds both arrays (for 32-bit size_t). */
	if (nslots > SIZE_MAX / 2 / sizeof(struct rl_entry))
		goto nomem;
	if (posix_memalign(&p, RL_LINE, (size_t)rl->max *
	    sizeof(struct rl_entry)) != 0)
		goto nomem;
	rl->entries = p;
	if (posix_memalign(&p, RL_LINE, nslots * sizeof(uint64_t)) != 0)
		goto nomem;
	rl->slots = p;
	/* Touch every page now rather than on the reply path. */
	memset(rl->entries, 0, (size_t)rl->max * sizeof(struct rl_entry));
	memset(rl->slots, 0, nslots * sizeof(uint64_t));
	return rl;

 nomem:
	ratelimit_free(rl);
	errno = ENOMEM;
	return NULL;
}

int
ratelimit_set_rate(struct ratelimit *rl, double rate, double burst)
{
	uint64_t	 interval, tolerance;

	if (rate_params(rate, burst, &interval, &tolerance) == -1)
		return -1;
	rl->interval = interval;
	rl->tolerance = tolerance;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->entries);
	free(rl->slots);
	sodium_memzero(rl->hkey, sizeof(rl->hkey));
	free(rl);
}

/* The 16-byte key of the client sa belongs to; -1 for other families. */
static int
client_key(const struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t key[2])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	uint8_t				 b[16];

	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &sin->sin_addr, 4);
		memcpy(key, b, 16);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(key, &sin6->sin6_addr, 16);
		if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			key[0] &= rl->mask6[0];
			key[1] &= rl->mask6[1];
		}
		return 0;
	default:
		return -1;
	}
}

/*
 * SipHash-2-4 needs no sodium_init(): it is plain C, with no CPU dispatch
 * and no random source, and sodium_init() may want /dev/urandom, which a
 * jailed server does not have.
 */
static uint32_t
key_hash(const struct ratelimit *rl, const uint64_t key[2])
{
	unsigned char	out[crypto_shorthash_BYTES];
	uint32_t	h;

	crypto_shorthash(out, (const unsigned char *)key, 16, rl->hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

/*
 * The client's entry, or NULL with *freeslot set to the empty slot that
 * ended the probe.
 */
static struct rl_entry *
lookup(struct ratelimit *rl, const uint64_t key[2], uint32_t hash,
    size_t *freeslot)
{
	struct rl_entry	*e;
	uint64_t	 s;
	size_t		 i;

	for (i = hash & rl->slot_mask; (s = rl->slots[i]) != 0;
	    i = (i + 1) & rl->slot_mask) {
		if ((uint32_t)(s >> 32) != hash)
			continue;
		e = &rl->entries[(uint32_t)s - 1];
		if (e->key[0] == key[0] && e->key[1] == key[1])
			return e;
	}
	*freeslot = i;
	return NULL;
}

/* The first empty slot from a hash's home; there is always one. */
static size_t
slot_free(const struct ratelimit *rl, uint32_t hash)
{
	size_t	i;

	for (i = hash & rl->slot_mask; rl->slots[i] != 0;
	    i = (i + 1) & rl->slot_mask)
		;
	return i;
}

/*
 * Take entry idx out of the index.  Each later slot of the run moves
 * back into the hole when the hole is on its way from its home slot, so
 * every client stays reachable without tombstones.
 */
static void
slot_remove(struct ratelimit *rl, uint32_t idx)
{
	size_t		 i, j, home, mask = rl->slot_mask;
	uint64_t	 s;

	for (i = rl->entries[idx].hash & mask;
	    (uint32_t)rl->slots[i] != idx + 1; i = (i + 1) & mask)
		;
	for (j = (i + 1) & mask; (s = rl->slots[j]) != 0;
	    j = (j + 1) & mask) {
		home = (size_t)(s >> 32) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			rl->slots[i] = s;
			i = j;
		}
	}
	rl->slots[i] = 0;
}

static void
lru_unlink(struct ratelimit *rl, struct rl_entry *e)
{
	if (e->prev != RL_NIL)
		rl->entries[e->prev].next = e->next;
	else
		rl->head = e->next;
	if (e->next != RL_NIL)
		rl->entries[e->next].prev = e->prev;
	else
		rl->tail = e->prev;
}

static void
lru_push(struct ratelimit *rl, struct rl_entry *e, uint32_t idx)
{
	e->prev = RL_NIL;
	e->next = rl->head;
	if (rl->head != RL_NIL)
		rl->entries[rl->head].prev = idx;
	else
		rl->tail = idx;
	rl->head = idx;
}

/* A new client with a full bucket, in place of the stalest if need be. */
static struct rl_entry *
insert(struct ratelimit *rl, const uint64_t key[2], uint32_t hash,
    size_t slot, uint64_t now_ns)
{
	struct rl_entry	*e;
	uint32_t	 idx;

	if (rl->used < rl->max)
		idx = rl->used++;
	else {
		idx = rl->tail;
		lru_unlink(rl, &rl->entries[idx]);
		slot_remove(rl, idx);
		rl->evictions++;
		/* The removal may have moved or filled our slot. */
		slot = slot_free(rl, hash);
	}
	e = &rl->entries[idx];
	e->key[0] = key[0];
	e->key[1] = key[1];
	e->tat = now_ns;
	e->last_ns = now_ns;
	e->requests = 0;
	e->limited = 0;
	e->hash = hash;
	rl->slots[slot] = (uint64_t)hash << 32 | (idx + 1);
	lru_push(rl, e, idx);
	return e;
}

enum ratelimit_verdict
ratelimit_check(struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ns)
{
	struct rl_entry	*e;
	uint64_t	 key[2], t, tat;
	uint32_t	 hash, idx;
	size_t		 slot;

	if (rl == NULL || client_key(rl, sa, key) == -1)
		return RATELIMIT_LIMIT;
	hash = key_hash(rl, key);
	if ((e = lookup(rl, key, hash, &slot)) == NULL)
		e = insert(rl, key, hash, slot, now_ns);
	else if ((idx = (uint32_t)(e - rl->entries)) != rl->head) {
		lru_unlink(rl, e);
		lru_push(rl, e, idx);
	}

	t = now_ns > e->last_ns ? now_ns : e->last_ns;
	e->last_ns = t;
	e->requests++;
	tat = e->tat > t ? e->tat : t;
	/* The second test only fails past the promised range of now_ns. */
	if (tat - t > rl->tolerance || tat > UINT64_MAX - rl->interval) {
		e->limited++;
		return RATELIMIT_LIMIT;
	}
	e->tat = tat + rl->interval;
	return RATELIMIT_PASS;
}

size_t
ratelimit_nclients(const struct ratelimit *rl)
{
	return rl == NULL ? 0 : rl->used;
}

uint64_t
ratelimit_evictions(const struct ratelimit *rl)
{
	return rl == NULL ? 0 : rl->evictions;
}

static void
entry_client(const struct ratelimit *rl, const struct rl_entry *e,
    struct ratelimit_client *c)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&c->addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&c->addr;

	memset(c, 0, sizeof(*c));
	memcpy(&sin6->sin6_addr, e->key, 16);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memset(&c->addr, 0, sizeof(c->addr));
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, (const uint8_t *)e->key + 12, 4);
		c->prefixlen = 32;
	} else {
		sin6->sin6_family = AF_INET6;
		c->prefixlen = rl->prefixlen6;
	}
	c->requests = e->requests;
	c->limited = e->limited;
	c->last_ns = e->last_ns;
}

/* Busier first; then IPv4 before IPv6, then by address, for a fixed order. */
static int
client_before(const struct ratelimit_client *a,
    const struct ratelimit_client *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->requests != b->requests)
		return a->requests > b->requests;
	if (a->addr.ss_family != b->addr.ss_family)
		return a->addr.ss_family == AF_INET;
	if (a->addr.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->addr;
		b4 = (const struct sockaddr_in *)&b->addr;
		return memcmp(&a4->sin_addr, &b4->sin_addr, 4) < 0;
	}
	a6 = (const struct sockaddr_in6 *)&a->addr;
	b6 = (const struct sockaddr_in6 *)&b->addr;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) < 0;
}

static void
client_swap(struct ratelimit_client *a, struct ratelimit_client *b)
{
	struct ratelimit_client	tmp;

	tmp = *a;
	*a = *b;
	*b = tmp;
}

/* A heap with the least busy client on top, the one to drop first. */
static void
heap_down(struct ratelimit_client *h, size_t n, size_t i)
{
	size_t	c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && client_before(&h[c], &h[c + 1]))
			c++;
		if (!client_before(&h[i], &h[c]))
			return;
		client_swap(&h[i], &h[c]);
		i = c;
	}
}

static void
heap_up(struct ratelimit_client *h, size_t i)
{
	size_t	p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (!client_before(&h[p], &h[i]))
			return;
		client_swap(&h[p], &h[i]);
		i = p;
	}
}

size_t
ratelimit_top(const struct ratelimit *rl, struct ratelimit_client *out,
    size_t n)
{
	struct ratelimit_client	 c;
	const struct rl_entry	*e;
	size_t			 k = 0, end;
	uint32_t		 i;

	if (rl == NULL || out == NULL || n == 0)
		return 0;
	for (i = 0; i < rl->used; i++) {
		e = &rl->entries[i];
		if (k == n && e->requests < out[0].requests)
			continue;
		entry_client(rl, e, &c);
		if (k < n) {
			out[k] = c;
			heap_up(out, k++);
		} else if (client_before(&c, &out[0])) {
			out[0] = c;
			heap_down(out, k, 0);
		}
	}
	/* Heapsort: the least busy goes last, and so on. */
	for (end = k; end > 1; end--) {
		client_swap(&out[0], &out[end - 1]);
		heap_down(out, end - 1, 0);
	}
	return k;
}
