// The small-object pool: every size class round-trips, memory is reused, and objects freed on another
// thread (a process freed by the last scheduler that held it) are fine.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "memory/detail/object_pool.h"

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
