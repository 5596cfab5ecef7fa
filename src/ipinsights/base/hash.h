// Stable, seeded 64-bit hashing (XXH3). Used for entity buckets, IP prefix buckets and
// deterministic splits; the values are part of the model file format, so never change
// the function behind a given name.
//
// Thread-safety: pure functions.
//
//   uint64_t bucket = Hash64(entity, seed) % num_entity_vectors;
#pragma once

#include <cstdint>
#include <string_view>

namespace ipinsights {

uint64_t Hash64(std::string_view data, uint64_t seed);
uint64_t Hash64(const void* data, size_t size, uint64_t seed);

// A fast, well-mixed integer hash (splitmix64 finaliser).
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform integer in [0, bound) from 64 random bits (Lemire's multiply-shift).
inline uint64_t UniformBelow(uint64_t random_bits, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(random_bits) * bound) >> 64);
}

}  // namespace ipinsights
