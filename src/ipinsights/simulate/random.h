// Small, fast, seedable random numbers for the simulator (xoshiro256**), and the
// seed derivation that makes every simulated chunk independent of thread scheduling.
//
// Every piece of simulated output draws from its own Rng seeded by DeriveSeed(seed, tag,
// index...) (for example: the events of entity 42 on day 3), so the output is a pure
// function of --seed whatever the number of threads.
//
// Thread-safety: an Rng is a plain value; use one per task.
//
//   Rng rng(DeriveSeed(seed, kTagEvents, day, entity));
//   double u = rng.Uniform();
#pragma once

#include <cmath>
#include <cstdint>

#include "ipinsights/base/hash.h"

namespace ipinsights::simulate {

inline uint64_t DeriveSeed(uint64_t seed, uint64_t tag, uint64_t a = 0, uint64_t b = 0) {
  return Mix64(Mix64(Mix64(seed ^ Mix64(tag)) ^ a) + 0x632be59bd9b4e019ULL * (b + 1));
}

// A uniform double in [0, 1) from 64 random bits.
inline double UnitFromBits(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    // splitmix64 expansion: never an all-zero state.
    for (uint64_t& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return UnitFromBits(Next()); }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32
  // for the table sizes used here and irrelevant to the generative model, which is defined
  // as "uniform" and sampled as such to within that bias).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  bool Bernoulli(double p) { return Uniform() < p; }

  // Standard normal (Box-Muller; one value per call for simplicity).
  double Normal() {
    double u1 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // Poisson(lambda): exact inversion for small lambda, a rounded normal above 40
  // (event counts only; the oracle does not depend on them).
  uint64_t Poisson(double lambda) {
    if (lambda <= 0) return 0;
    if (lambda > 40) {
      const double x = std::floor(lambda + std::sqrt(lambda) * Normal() + 0.5);
      return x < 0 ? 0 : static_cast<uint64_t>(x);
    }
    const double limit = std::exp(-lambda);
    uint64_t k = 0;
    double product = Uniform();
    while (product > limit) {
      ++k;
      product *= Uniform();
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace ipinsights::simulate
