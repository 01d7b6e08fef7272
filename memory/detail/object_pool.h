// Small-object memory for what a node makes by the million: process control blocks, behaviours, message
// envelopes.
//
// Internal to myrmex. Each thread keeps a free list per size class (multiples of 16 bytes up to 1 KiB), so
// allocating and freeing are a few instructions and need no lock; lists refill from and spill to shared
// lists in batches. New memory comes in chunks whose pages are populated in one call when the chunk is
// mapped: on our machines a page first touched by a fault costs ~12 µs, populated in bulk ~0.8 µs, and a
// million processes touch a gigabyte. Freed memory is reused, never returned to the kernel.
//
// The pool is process-wide: every node of the OS process shares it (a node's scheduler threads and any
// other thread alike). That is safe because no node owns any of its memory: a free list belongs to a
// thread, and only that thread touches it; the shared spare lists and the chunks are behind one mutex;
// and an object may be freed on any thread, so an envelope or control block made by one node's thread and
// freed by another's (or after its node is gone) is just a free object of its size class. What a node
// frees stays in the pool for the others; a node's destruction returns nothing, as the paragraph above says.
//
// Under ASan/TSan this is plain operator new/delete, so the sanitizers still see every object.
#pragma once

#include <cstddef>

namespace myrmex::memory::detail {

// pool_allocate() returns `size` bytes aligned to 16 (any thread).
void* pool_allocate(std::size_t size);
// pool_free() gives back memory from pool_allocate() of the same `size` (any thread).
void pool_free(void* p, std::size_t size) noexcept;

}  // namespace myrmex::memory::detail
