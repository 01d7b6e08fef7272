#include "scheduler/detail/systematic.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace myrmex::scheduler::detail {

namespace {

std::atomic<YieldHook> hook{nullptr};

// Whether nodes constructed from now on run seeded, and with which seed: test-only settings of the OS
// process, like the hook (the running state lives in each node's Systematic).
std::atomic<bool> seeded{false};
std::atomic<std::uint64_t> seed_for_next{0};

// The seeded node the calling thread is a scheduler thread of, and its index there.
thread_local Systematic* tls_controller = nullptr;
thread_local unsigned tls_index = 0;

// Thread states in Systematic::eligible_.
constexpr char kOut = 0;    // not started, or blocked until woken
constexpr char kIn = 1;     // may be given the turn
constexpr char kEnded = 2;  // detached for good

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

// The name's characters, not its address: the trace must not depend on where the binary is loaded.
std::uint64_t name_hash(const char* s) {
  std::uint64_t h = kFnvOffset;
  for (; *s; ++s) {
    h ^= static_cast<unsigned char>(*s);
    h *= kFnvPrime;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr,
          0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr,
          0);
}

}  // namespace

void set_yield_hook(YieldHook h) noexcept {
  hook.store(h, std::memory_order_release);
}

#ifdef MYRMEX_YIELD_POINTS
void yield_point_reached(const char* name) noexcept {
  if (YieldHook h = hook.load(std::memory_order_acquire)) h(name);
  if (Systematic* c = tls_controller) c->yield(tls_index, name);
}
#endif

namespace systematic {

bool enable(std::uint64_t seed) noexcept {
  if constexpr (!kYieldPoints) return false;
  seed_for_next.store(seed, std::memory_order_relaxed);
  seeded.store(true, std::memory_order_release);
  return true;
}

void disable() noexcept {
  seeded.store(false, std::memory_order_release);
}

std::uint64_t trace() noexcept {
  return tls_controller ? tls_controller->trace() : 0;
}

std::uint64_t decisions() noexcept {
  return tls_controller ? tls_controller->decisions() : 0;
}

bool controlled() noexcept {
  return tls_controller != nullptr;
}

}  // namespace systematic

std::unique_ptr<Systematic> Systematic::make(unsigned threads) {
  if constexpr (!kYieldPoints) return nullptr;
  if (!seeded.load(std::memory_order_acquire)) return nullptr;
  return std::make_unique<Systematic>(seed_for_next.load(std::memory_order_relaxed), threads);
}

Systematic::Systematic(std::uint64_t seed, unsigned threads)
    : rng_(seed), eligible_(threads, kOut), trace_(kFnvOffset) {}

std::uint32_t Systematic::give(const char* point) {
  std::uint32_t count = 0;
  for (char e : eligible_) count += e == kIn;
  std::uint32_t next = kNobody;
  if (count > 0) {
    auto k = static_cast<std::uint32_t>(splitmix64(rng_) % count);
    for (std::uint32_t i = 0; i < eligible_.size(); ++i)
      if (eligible_[i] == kIn && k-- == 0) {
        next = i;
        break;
      }
    ++decisions_;
    trace_ = mix(mix(trace_, next), name_hash(point));
  }
  if (turn_.load(std::memory_order_relaxed) != next) {
    // release: the new holder sees everything the old one did (its acquire load in wait_turn()).
    turn_.store(next, std::memory_order_release);
    if (next != kNobody) futex_wake_all(turn_);
  }
  return next;
}

void Systematic::wait_turn(unsigned index) {
  for (int spins = 0;; ++spins) {
    std::uint32_t t = turn_.load(std::memory_order_acquire);
    if (t == index) return;
    if (spins < 200) {
      __builtin_ia32_pause();
    } else {
      futex_wait(turn_, t);
    }
  }
}

void Systematic::attach(unsigned index) {
  tls_controller = this;
  tls_index = index;
  {
    std::lock_guard lock(mutex_);
    if (eligible_[index] != kEnded) eligible_[index] = kIn;
    // The first turn is handed out once every thread is here, so the start does not depend on which
    // thread the OS started first.
    if (++started_ == eligible_.size()) give("scheduler.start");
  }
  wait_turn(index);
}

void Systematic::detach(unsigned index) {
  {
    std::lock_guard lock(mutex_);
    eligible_[index] = kEnded;
    if (turn_.load(std::memory_order_relaxed) == index) give("scheduler.end");
  }
  tls_controller = nullptr;
}

void Systematic::yield(unsigned index, const char* point) {
  std::uint32_t next;
  {
    std::lock_guard lock(mutex_);
    if (turn_.load(std::memory_order_relaxed) != index) {
      std::fprintf(stderr, "myrmex: seeded mode: scheduler %u reached %s without the turn\n", index, point);
      std::abort();
    }
    next = give(point);
  }
  if (next != index) wait_turn(index);
}

void Systematic::block(unsigned index) {
  std::lock_guard lock(mutex_);
  eligible_[index] = kOut;
  if (turn_.load(std::memory_order_relaxed) == index) give("scheduler.sleep");
}

void Systematic::unblock(unsigned index) {
  {
    std::lock_guard lock(mutex_);
    eligible_[index] = kIn;
    // Nobody holds the turn (every thread was blocked): the first to wake takes it.
    if (turn_.load(std::memory_order_relaxed) == kNobody) {
      turn_.store(index, std::memory_order_release);
      futex_wake_all(turn_);
    }
  }
  wait_turn(index);
}

void Systematic::woken(unsigned index) {
  std::lock_guard lock(mutex_);
  if (eligible_[index] == kEnded) return;
  eligible_[index] = kIn;
  if (started_ == eligible_.size() && turn_.load(std::memory_order_relaxed) == kNobody) {
    turn_.store(index, std::memory_order_release);
    futex_wake_all(turn_);
  }
}

std::uint64_t Systematic::trace() {
  std::lock_guard lock(mutex_);
  return trace_;
}

std::uint64_t Systematic::decisions() {
  std::lock_guard lock(mutex_);
  return decisions_;
}

}  // namespace myrmex::scheduler::detail
