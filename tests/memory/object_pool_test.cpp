// The small-object pool: every size class round-trips, memory is reused, and objects freed on another
// thread (a process freed by the last scheduler that held it) are fine.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "memory/detail/object_pool.h"
#include "scheduler/detail/fiber.h"

namespace md = myrmex::memory::detail;

TEST_CASE("pool objects are 16-byte aligned, distinct, and keep what is written to them") {
  std::vector<std::pair<void*, std::size_t>> live;
  for (std::size_t size = 1; size <= 1100; size += 7)
    for (int i = 0; i < 20; ++i) {
      void* p = md::pool_allocate(size);
      CHECK(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
      std::memset(p, static_cast<int>(size & 0xff), size);
      live.emplace_back(p, size);
    }
  std::set<void*> distinct;
  for (auto [p, size] : live) {
    distinct.insert(p);
    auto* bytes = static_cast<unsigned char*>(p);
    CHECK(bytes[0] == static_cast<unsigned char>(size & 0xff));
    CHECK(bytes[size - 1] == static_cast<unsigned char>(size & 0xff));
  }
  CHECK(distinct.size() == live.size());
  for (auto [p, size] : live) md::pool_free(p, size);
}

TEST_CASE("objects freed on another thread are reused, never handed out twice") {
  constexpr int kObjects = 20000;
  std::vector<void*> made(kObjects);
  for (auto& p : made) p = md::pool_allocate(48);
  std::thread other([&] {
    for (void* p : made) md::pool_free(p, 48);
  });
  other.join();  // its thread-exit hook hands the freed objects back to the shared lists
  std::set<void*> again;
  for (int i = 0; i < kObjects; ++i) CHECK(again.insert(md::pool_allocate(48)).second);
  for (void* p : again) md::pool_free(p, 48);
}

TEST_CASE("size classes: 16 bytes a class up to 1 KiB, a freed object comes back for its own class only") {
  // Under the sanitizers the pool is plain new/delete, and nothing is reused in this order.
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  auto again = [](std::size_t freed, std::size_t asked) {
    void* p = md::pool_allocate(freed);
    md::pool_free(p, freed);
    void* q = md::pool_allocate(asked);
    md::pool_free(q, asked);
    return p == q;
  };
  CHECK(again(1, 16));
  CHECK(again(16, 1));
  CHECK(again(17, 32));
  CHECK(!again(16, 17));
  CHECK(!again(32, 33));
  CHECK(again(1009, 1024));
  // 0 and what is past 1 KiB go to operator new/delete; each still round-trips.
  for (std::size_t size : {std::size_t{0}, std::size_t{1025}, std::size_t{4096}}) {
    void* p = md::pool_allocate(size);
    REQUIRE(p != nullptr);
    if (size) std::memset(p, 0x5a, size);
    md::pool_free(p, size);
  }
}
