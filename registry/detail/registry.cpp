// Registry (registry.h): registering, unregistering and freeing names against their holders' exits.
#include "registry/detail/registry.h"

#include "registry/detail/entry.h"
#include "scheduler/detail/yield_point.h"
#include "vm/detail/node_impl.h"

namespace myrmex::registry::detail {

namespace sd = scheduler::detail;
using vm::unexpected;

Registry& Registry::of(vm::detail::NodeImpl& node) {
  auto make = [](vm::detail::NodeImpl& n) -> vm::detail::NodeExtension* { return new Registry(n); };
  return static_cast<Registry&>(vm::detail::extension(node, kExtensionId, make));
}

Registry::Registry(vm::detail::NodeImpl& node) : node_(node), table_(node.group) {}

Expected<void, NameError> Registry::register_name(std::string_view name, Pid pid) {
  if (!valid_name(name)) return unexpected(NameError::bad_name);
  const std::uint64_t hash = NameTable::hash(name);
  NameTable::Shard& shard = table_.shard(hash);
  Entry* e = Entry::make(*this, name, hash, pid);  // outside the lock
  ShardGuard guard(shard.lock);
  if (const Entry* holder = table_.find_locked(shard, name, hash)) {
    Entry::destroy(e);
    return unexpected(why_taken(*holder, pid));
  }
  sd::yield_point("registry.register.checked");
  switch (vm::detail::attach(node_, pid, e)) {
    case vm::detail::AttachResult::noproc:
      Entry::destroy(e);
      return unexpected(NameError::noproc);
    case vm::detail::AttachResult::taken:
      Entry::destroy(e);
      return unexpected(NameError::already_named);
    case vm::detail::AttachResult::attached:
      break;
  }
  e->attached = true;
  // The holder's exit may begin here: its holder_exiting() waits for this lock, then takes the name out.
  sd::yield_point("registry.register.attached");
  table_.insert_locked(shard, e);
  e->in_table = true;
  return {};
}

NameError Registry::why_taken(const Entry& holder, Pid pid) const {
  if (holder.pid == pid) return NameError::already_named;
  // Read-only: what process_info() shows (its registered name comes from describe(), which takes no lock).
  std::optional<vm::ProcessInfo> info = node_.info(pid);
  if (!info || info->status == vm::ProcessStatus::exiting) return NameError::noproc;
  return info->registered_name.empty() ? NameError::taken : NameError::already_named;
}

Expected<void, NameError> Registry::unregister_name(std::string_view name) {
  if (!valid_name(name)) return unexpected(NameError::bad_name);
  const std::uint64_t hash = NameTable::hash(name);
  NameTable::Shard& shard = table_.shard(hash);
  ShardGuard guard(shard.lock);
  Entry* e = table_.find_locked(shard, name, hash);
  if (!e) return unexpected(NameError::unknown_name);
  sd::yield_point("registry.unregister.found");
  // False: the holder's exit took the attachment; its holder_exiting() runs after this section.
  if (vm::detail::detach(node_, e->pid, e)) e->attached = false;
  table_.erase_locked(shard, e);
  e->in_table = false;
  let_go_locked(e);
  return {};
}

void Registry::holder_exiting(Entry& e) noexcept {
  sd::yield_point("registry.exit.freeing");  // the holder is ending and still named
  NameTable::Shard& shard = table_.shard(e.hash);
  ShardGuard guard(shard.lock);
  e.attached = false;
  if (e.in_table) {
    table_.erase_locked(shard, &e);
    e.in_table = false;
  }
  let_go_locked(&e);
}

void Registry::let_go_locked(Entry* e) {
  if (e->in_table || e->attached) return;
  node_.group.defer([](void* p, std::uint64_t, std::uint64_t) { Entry::destroy(static_cast<Entry*>(p)); }, e,
                    0, 0);
}

Pid Registry::whereis(std::string_view name) const {
  if (!valid_name(name)) return Pid{};
  const Entry* e = table_.find(name, NameTable::hash(name));
  return e ? e->pid : Pid{};
}

std::vector<std::string> Registry::registered() const {
  std::vector<std::string> out;
  table_.names(out);
  return out;
}

}  // namespace myrmex::registry::detail
