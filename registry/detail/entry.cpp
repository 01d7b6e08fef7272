#include "registry/detail/entry.h"

#include <cstring>
#include <new>

#include "memory/detail/live_counts.h"
#include "memory/detail/object_pool.h"
#include "registry/detail/registry.h"

namespace myrmex::registry::detail {

namespace md = memory::detail;

Entry::Entry(Registry& registry, std::uint64_t hash, vm::Pid pid, std::uint32_t size)
    : hash(hash), pid(pid), registry_(registry), size_(size) {
  md::counted_add(md::Counted::name, 1);
}

Entry::~Entry() {
  md::counted_add(md::Counted::name, -1);
}

Entry* Entry::make(Registry& registry, std::string_view name, std::uint64_t hash, vm::Pid pid) {
  void* p = md::pool_allocate(sizeof(Entry) + name.size());
  auto* e = new (p) Entry(registry, hash, pid, static_cast<std::uint32_t>(name.size()));
  std::memcpy(static_cast<char*>(p) + sizeof(Entry), name.data(), name.size());
  return e;
}

void Entry::destroy(Entry* e) noexcept {
  const std::size_t size = sizeof(Entry) + e->size_;
  e->~Entry();
  md::pool_free(e, size);
}

void Entry::process_exiting(vm::Pid) noexcept {
  registry_.holder_exiting(*this);
}

}  // namespace myrmex::registry::detail
