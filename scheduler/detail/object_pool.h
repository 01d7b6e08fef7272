// Small-object memory for what a node makes by the million: process control blocks, behaviours, message
// envelopes.
//
// Internal to myrmex. Each thread keeps a free list per size class (multiples of 16 bytes up to 1 KiB), so
// allocating and freeing are a few instructions and need no lock; lists refill from and spill to shared
// lists in batches. New memory comes in chunks whose pages are populated in one call when the chunk is
// mapped: on our machines a page first touched by a fault costs ~12 µs, populated in bulk ~0.8 µs, and a
// million processes touch a gigabyte. Freed memory is reused, never returned to the kernel.
//
// Under ASan/TSan this is plain operator new/delete, so the sanitizers still see every object.
#pragma once

#include <cstddef>

namespace myrmex::scheduler::detail {

// pool_allocate() returns `size` bytes aligned to 16 (any thread).
void* pool_allocate(std::size_t size);
// pool_free() gives back memory from pool_allocate() of the same `size` (any thread).
void pool_free(void* p, std::size_t size) noexcept;

}  // namespace myrmex::scheduler::detail
