#pragma once
// Random numbers. See Note [Counter-based RNG] in random.cpp: element i of a fill draws from
// (key, counter + i), so fills are reproducible under manual_seed and independent of the thread count.
#include <cstdint>
#include <memory>
#include <mutex>

namespace cr {

class Generator {
 public:
  /// PyTorch's default seed, so a fresh process starts from a fixed stream too.
  static constexpr uint64_t kDefaultSeed = 67280421310721ULL;
  explicit Generator(uint64_t seed = kDefaultSeed) { manual_seed(seed); }

  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const {
    std::lock_guard<std::mutex> l(mu_);
    return seed_;
  }
  /// Reseeds from a nondeterministic source and returns the new seed.
  uint64_t seed();
  /// Reserves n consecutive counters of this generator's stream; returns (key, first counter).
  void reserve(uint64_t n, uint64_t& key, uint64_t& first);
  /// (seed, counter): enough to restore the stream exactly.
  void get_state(uint64_t& seed, uint64_t& offset) const;
  void set_state(uint64_t seed, uint64_t offset);

 private:
  mutable std::mutex mu_;
  uint64_t seed_ = 0, key_ = 0, offset_ = 0;
};

/// The generator used when none is passed (chainrule.manual_seed seeds it).
const std::shared_ptr<Generator>& default_generator();

/// 64 random bits for (key, counter): SplitMix64's output function on a Weyl sequence.
inline uint64_t random_bits(uint64_t key, uint64_t counter) {
  uint64_t z = key + counter * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace cr
