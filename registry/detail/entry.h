// Entry: one registered name, both the name table's element and the holder's attachment.
//
// Internal to myrmex. An entry is immutable once made (name, hash, PID), so lookups read it without a
// lock. It has two owners, each tracked by a flag under its shard's lock: the table (`in_table`: lookups
// can reach it) and the holder process (`attached`: the process's exit will call process_exiting()). The
// last of the two to let go frees it, after a grace period (scheduler/detail/quiescence.h), since a lookup
// may still hold it. The name's bytes follow the object in the same allocation, so a lookup compares them
// in the cache lines it read the hash from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vm/detail/extension.h"
#include "vm/pid.h"

namespace myrmex::registry::detail {

class Registry;

class Entry final : public vm::detail::ProcessAttachment {
 public:
  // make() allocates an entry for `name` (any thread); destroy() frees one nobody can reach any more.
  static Entry* make(Registry& registry, std::string_view name, std::uint64_t hash, vm::Pid pid);
  static void destroy(Entry* e) noexcept;

  std::string_view name() const { return {reinterpret_cast<const char*>(this + 1), size_}; }

  // The holder's exit (vm/detail/extension.h): frees the name.
  void process_exiting(vm::Pid pid) noexcept override;
  std::string describe() const override { return std::string(name()); }

  const std::uint64_t hash;
  const vm::Pid pid;
  // Guarded by the lock of the entry's shard.
  bool in_table = false;
  bool attached = false;

 private:
  Entry(Registry& registry, std::uint64_t hash, vm::Pid pid, std::uint32_t size);
  ~Entry();

  Registry& registry_;
  const std::uint32_t size_;  // of the name
};

}  // namespace myrmex::registry::detail
