// Registry: one node's local names, and the protocol that keeps the table and the holders in step.
//
// Internal to myrmex. The registry is the node's extension number kExtensionId (vm/detail/extension.h),
// made on the first name operation and destroyed with the node, after every process has ended. Each
// registered name is an Entry both in the table (registry/detail/name_table.h) and attached to its holder
// (vm/detail/extension.h's attach()), so that the holder's exit, which vm/ reports before anything shows
// the holder dead, frees the name.
//
// Every change to an entry happens under its shard's lock, which is taken before any process's signal
// lock (attach() and detach() take the holder's), never the other way round: vm/ calls process_exiting()
// with no lock held, and describe() under the signal lock takes none. So:
//  - register_name() checks that the name is free, attaches the entry to the holder, and inserts it, in
//    one section: nobody else can take the name meanwhile (two registrations of a name: exactly one wins),
//    and a holder whose exit begins in between runs holder_exiting(), which waits for the lock and then
//    finds the entry in the table and takes it out. No interleaving leaves a name to an ended process.
//  - unregister_name() detaches the entry (or finds that the holder's exit has taken it: its
//    holder_exiting() will find the entry gone) and takes it out of the table.
// Lookups take no lock (name_table.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "registry/detail/name_table.h"
#include "registry/registry.h"
#include "vm/detail/extension.h"
#include "vm/pid.h"

namespace myrmex::vm::detail {
class NodeImpl;
}

namespace myrmex::registry::detail {

class Entry;

// kExtensionId is the registry's number among a node's extensions (vm/detail/extension.h): 0. The next
// library above vm/ to keep per-node state (dist/) takes 1.
inline constexpr int kExtensionId = 0;

class Registry final : public vm::detail::NodeExtension {
 public:
  // of() is `node`'s registry, made on first use (any thread).
  static Registry& of(vm::detail::NodeImpl& node);
  explicit Registry(vm::detail::NodeImpl& node);

  // As the API (registry/registry.h), with the charge already made. Scheduler threads of the node only.
  Expected<void, NameError> register_name(std::string_view name, Pid pid);
  Expected<void, NameError> unregister_name(std::string_view name);
  Pid whereis(std::string_view name) const;
  std::vector<std::string> registered() const;

  // holder_exiting() frees `e`'s name: its holder is ending (Entry::process_exiting()).
  void holder_exiting(Entry& e) noexcept;

 private:
  // why_taken() is register_name()'s error when `holder` holds the name wanted for `pid`, by Erlang's
  // precedence: noproc, then already_named, then taken.
  NameError why_taken(const Entry& holder, Pid pid) const;
  // let_go_locked() frees `e` once it is neither in the table nor attached, after a grace period.
  void let_go_locked(Entry* e);

  vm::detail::NodeImpl& node_;
  NameTable table_;
};

// valid_name() is whether `name` may be a name (1 to kMaxNameBytes bytes).
inline bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameBytes;
}

}  // namespace myrmex::registry::detail
