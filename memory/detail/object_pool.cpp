#include "memory/detail/object_pool.h"

#include <sys/mman.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MYRMEX_POOL_BYPASS 1
#endif

namespace myrmex::memory::detail {

#ifdef MYRMEX_POOL_BYPASS

void* pool_allocate(std::size_t size) {
  return ::operator new(size);
}
void pool_free(void* p, std::size_t size) noexcept {
  ::operator delete(p, size);
}

#else

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxSize = 1024;
constexpr std::size_t kClasses = kMaxSize / kGranule;
constexpr std::size_t kChunkBytes = std::size_t{4} << 20;
constexpr std::uint32_t kBatch = 64;                // objects moved between a thread and the shared lists
constexpr std::uint32_t kThreadLimit = 4 * kBatch;  // a thread keeps at most this many free per class
constexpr int kMadvPopulateWrite = 23;              // Linux 5.14; not in every libc's headers

// pooled() tells whether `size` is served here. Sizes 1..kMaxSize are, in class (size - 1) / kGranule;
// size 0 wraps past kMaxSize and goes to operator new/delete with the large ones, so the fast paths test
// one bound only.
bool pooled(std::size_t size) {
  return size - 1 < kMaxSize;
}
std::size_t class_of(std::size_t size) {
  return (size - 1) / kGranule;
}

struct FreeObject {
  FreeObject* next;
};

// FreeList is a counted singly linked list of free objects of one class.
struct FreeList {
  FreeObject* head = nullptr;
  std::uint32_t count = 0;

  void push(FreeObject* o) {
    o->next = head;
    head = o;
    ++count;
  }
  FreeObject* pop() {
    FreeObject* o = head;
    head = o->next;
    --count;
    return o;
  }
};

// Shared holds every class's spare objects, as whole batches, and carves new ones from populated chunks.
// A batch moves in and out as one linked chain: the lock is held for a pointer, not for a walk over
// objects that another core freed last (their cache lines would move under the lock).
class Shared {
 public:
  // refill() gives `into` (empty) a batch of class `c`.
  void refill(std::size_t c, FreeList& into) {
    {
      std::lock_guard lock(mutex_);
      if (!spare_[c].empty()) {
        into = spare_[c].back();
        spare_[c].pop_back();
        return;
      }
    }
    const std::size_t size = (c + 1) * kGranule;
    std::lock_guard lock(mutex_);
    while (into.count < kBatch) into.push(static_cast<FreeObject*>(carve(size)));
  }

  // spill() takes the first `n` objects of `from` (it holds at least n) as one batch.
  void spill(std::size_t c, FreeList& from, std::uint32_t n) {
    if (n == 0) return;
    FreeList batch{from.head, n};
    FreeObject* last = from.head;
    for (std::uint32_t i = 1; i < n; ++i) last = last->next;  // this thread's own, recently freed
    from.head = last->next;
    from.count -= n;
    last->next = nullptr;
    std::lock_guard lock(mutex_);
    spare_[c].push_back(batch);
  }

 private:
  void* carve(std::size_t size) {  // REQUIRES(mutex_)
    if (left_ < size) new_chunk();
    void* p = next_;
    next_ += size;
    left_ -= size;
    return p;
  }

  void new_chunk() {  // REQUIRES(mutex_)
    void* mem = mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      std::fprintf(stderr, "myrmex: cannot map %zu bytes for small objects (errno %d)\n", kChunkBytes, errno);
      std::abort();
    }
    // Older kernels refuse the advice (EINVAL); their pages are then faulted in one by one on first use.
    madvise(mem, kChunkBytes, kMadvPopulateWrite);
    next_ = static_cast<char*>(mem);
    left_ = kChunkBytes;
  }

  std::mutex mutex_;
  std::array<std::vector<FreeList>, kClasses> spare_{};  // GUARDED_BY(mutex_): chains, one per batch
  char* next_ = nullptr;  // GUARDED_BY(mutex_): the current chunk's unused part
  std::size_t left_ = 0;  // GUARDED_BY(mutex_)
};

Shared& shared() {
  // Never destroyed: threads may free objects while the program exits.
  static Shared* s = new Shared;
  return *s;
}

// A thread's free lists. Plain zero-initialised TLS, so the fast paths need no lazy-init guard; the
// object that hands them back when the thread ends is touched only on the slow path.
thread_local std::array<FreeList, kClasses> lists;

struct ThreadExit {
  bool armed = false;
  ~ThreadExit() {
    for (std::size_t c = 0; c < kClasses; ++c) shared().spill(c, lists[c], lists[c].count);
  }
};
thread_local ThreadExit thread_exit;

// The slow paths, kept out of line so the fast ones stay a handful of instructions.
[[gnu::noinline]] void* refill_and_pop(std::size_t c) {
  thread_exit.armed = true;
  shared().refill(c, lists[c]);
  return lists[c].pop();
}
[[gnu::noinline]] void spill(std::size_t c) {
  thread_exit.armed = true;
  shared().spill(c, lists[c], kBatch);
}

}  // namespace

void* pool_allocate(std::size_t size) {
  if (!pooled(size)) [[unlikely]]
    return ::operator new(size);
  const std::size_t c = class_of(size);
  FreeList& list = lists[c];
  if (!list.head) [[unlikely]]
    return refill_and_pop(c);
  return list.pop();
}

void pool_free(void* p, std::size_t size) noexcept {
  if (!p) return;
  if (!pooled(size)) [[unlikely]]
    return ::operator delete(p, size);
  const std::size_t c = class_of(size);
  FreeList& list = lists[c];
  list.push(static_cast<FreeObject*>(p));
  if (list.count > kThreadLimit) [[unlikely]]
    spill(c);
}

#endif

}  // namespace myrmex::memory::detail
