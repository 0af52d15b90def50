/*
 * xoshiro256** (Blackman and Vigna), its state filled by splitmix64:
 * see rng.h.
 */
#include <math.h>
#include <stdint.h>

#include "rng.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z;

	z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	/* Streams far apart in splitmix's sequence, one state each. */
	uint64_t	x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	int		i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t	result, t;

	result = rotl(r->s[1] * 5, 7) * 9;
	t = r->s[1] << 17;
	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

double
rng_uniform(struct rng *r)
{
	/* The top 53 bits: every double in [0, 1) of that spacing. */
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
	/* Lemire's multiply-shift; the bias of 2^-32 does not matter here. */
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

double
rng_normal(struct rng *r)
{
	double	u, v;

	/* Box-Muller; 1 - u is in (0, 1], so the log is finite. */
	u = 1.0 - rng_uniform(r);
	v = rng_uniform(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double
rng_exp(struct rng *r, double mean)
{
	return -mean * log(1.0 - rng_uniform(r));
}
