// PoolAllocator: a standard allocator over the small-object pool, for the node-based containers that
// processes make by the million (a process's link set, its monitors by reference).
//
// Internal to myrmex. Blocks up to the pool's largest class come from the calling thread's free lists;
// bigger ones (a large hash table's bucket array) from operator new, as pool_allocate() does.
#pragma once

#include <cstddef>

#include "memory/detail/object_pool.h"

namespace myrmex::memory::detail {

template <class T>
struct PoolAllocator {
  static_assert(alignof(T) <= 16, "the pool aligns to 16");
  using value_type = T;

  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { pool_free(p, n * sizeof(T)); }

  template <class U>
  friend bool operator==(const PoolAllocator&, const PoolAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace myrmex::memory::detail
