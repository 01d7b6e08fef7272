#include "mailbox/message.h"

#include "scheduler/detail/object_pool.h"

namespace myrmex::mailbox::detail {

void* allocate(std::size_t size) {
  return scheduler::detail::pool_allocate(size);
}

void deallocate(void* p, std::size_t size) noexcept {
  scheduler::detail::pool_free(p, size);
}

}  // namespace myrmex::mailbox::detail
