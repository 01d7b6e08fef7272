#include "mailbox/message.h"

#include <cxxabi.h>

#include <atomic>
#include <cstdlib>

#include "memory/detail/live_counts.h"
#include "memory/detail/object_pool.h"

namespace myrmex::mailbox::detail {

namespace md = memory::detail;

// The pool aligns to 16; more than that goes to operator new.
constexpr std::size_t kPoolAlignment = 16;

void* allocate(std::size_t size, std::size_t alignment) {
  void* p = alignment > kPoolAlignment ? ::operator new(size, std::align_val_t(alignment))
                                       : md::pool_allocate(size);
  md::counted_add(md::Counted::envelope, 1);
  return p;
}

void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept {
  md::counted_add(md::Counted::envelope, -1);
  if (alignment > kPoolAlignment) return ::operator delete(p, size, std::align_val_t(alignment));
  md::pool_free(p, size);
}

std::string demangle(const std::type_info& type) {
  int status = 0;
  char* s = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && s ? s : type.name();
  std::free(s);
  return out;
}

namespace {
std::atomic<bool (*)(const void*) noexcept> in_code_library{nullptr};
}  // namespace

void set_foreign_type_check(bool (*check)(const void* address) noexcept) noexcept {
  in_code_library.store(check, std::memory_order_release);
}

bool same_type(const std::type_info& a, const std::type_info& b) noexcept {
  if (&a == &b) return true;
  if (a != b) return false;
  auto* check = in_code_library.load(std::memory_order_acquire);
  return !check || (!check(&a) && !check(&b));
}

}  // namespace myrmex::mailbox::detail
