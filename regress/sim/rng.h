/*
 * The simulator's random numbers: xoshiro256** seeded through
 * splitmix64, so that a (seed, stream) pair gives the same sequence on
 * any machine.  Never arc4random: a run must be reproducible.
 */
#ifndef NTPD_SIM_RNG_H
#define NTPD_SIM_RNG_H

#include <stdint.h>

struct rng {
	uint64_t	s[4];
};

void		rng_seed(struct rng *, uint64_t seed, uint64_t stream);
uint64_t	rng_next(struct rng *);
/* Uniform in [0, 1). */
double		rng_uniform(struct rng *);
/* Uniform in [0, n), as arc4random_uniform(); 0 for n 0. */
uint32_t	rng_below(struct rng *, uint32_t n);
/* Standard normal. */
double		rng_normal(struct rng *);
/* Exponential of the given mean. */
double		rng_exp(struct rng *, double mean);

#endif /* NTPD_SIM_RNG_H */
