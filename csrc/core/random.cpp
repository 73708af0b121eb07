// Note [Counter-based RNG]
// A generator is a key (a hash of the seed) and a counter. A fill of n elements reserves n counters
// (under a lock) and computes element i from random_bits(key, first + i) alone, so the fill can be
// split across any number of threads and still give the same values; successive fills continue
// the stream. The bits are SplitMix64 (Steele, Lea, Flood 2014), which passes BigCrush.
#include "core/random.h"

#include <chrono>
#include <random>

namespace cr {

namespace {
uint64_t mix(uint64_t x) { return random_bits(x, 1); }
}  // namespace

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> l(mu_);
  seed_ = seed;
  key_ = mix(seed);
  offset_ = 0;
}

uint64_t Generator::seed() {
  std::random_device rd;
  uint64_t s = ((uint64_t)rd() << 32) ^ rd() ^
               (uint64_t)std::chrono::high_resolution_clock::now().time_since_epoch().count();
  manual_seed(s);
  return s;
}

void Generator::reserve(uint64_t n, uint64_t& key, uint64_t& first) {
  std::lock_guard<std::mutex> l(mu_);
  key = key_;
  first = offset_;
  offset_ += n;
}

void Generator::get_state(uint64_t& seed, uint64_t& offset) const {
  std::lock_guard<std::mutex> l(mu_);
  seed = seed_;
  offset = offset_;
}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  manual_seed(seed);
  std::lock_guard<std::mutex> l(mu_);
  offset_ = offset;
}

const std::shared_ptr<Generator>& default_generator() {
  static const std::shared_ptr<Generator> g = std::make_shared<Generator>();
  return g;
}

}  // namespace cr
