// Pid: a process identifier, a u64 that stays valid (and dead) forever.
//
// Layout: [node slot: 12 bits][generation: 24 bits][slab index: 28 bits]. The node slot names the node that
// issued the PID: each node of the OS process has its own (1..4095, vm/detail/node_slots.h), and a node
// treats a PID of another slot as none of its processes; other slots will also name remote nodes (dist/).
// The index names a slot of that node's process table, the generation one use of it: a stale PID never
// reaches the slot's next process. A slot is reused only after tens of thousands of spawns, and a slot whose
// generation is spent is retired, never wrapped, so a PID is never issued twice by a node. Slot 0 and
// generation 0 are never issued: Pid{} is "no process".
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace myrmex::vm {

struct Pid {
  static constexpr int kIndexBits = 28;
  static constexpr int kGenerationBits = 24;
  static constexpr int kNodeBits = 12;

  std::uint64_t value = 0;

  static constexpr Pid make(std::uint32_t node, std::uint32_t index, std::uint32_t generation) {
    return Pid{(std::uint64_t{node} << (kIndexBits + kGenerationBits)) |
               (std::uint64_t{generation} << kIndexBits) | std::uint64_t{index}};
  }
  constexpr std::uint32_t index() const {
    return static_cast<std::uint32_t>(value & ((1ULL << kIndexBits) - 1));
  }
  constexpr std::uint32_t generation() const {
    return static_cast<std::uint32_t>((value >> kIndexBits) & ((1ULL << kGenerationBits) - 1));
  }
  constexpr std::uint32_t node() const {
    return static_cast<std::uint32_t>(value >> (kIndexBits + kGenerationBits));
  }
  constexpr explicit operator bool() const { return value != 0; }
  constexpr auto operator<=>(const Pid&) const = default;

  // to_string() prints Erlang's way: <node slot.index.generation>.
  std::string to_string() const;
};

// Ref is a node-unique reference (make_ref()).
struct Ref {
  std::uint64_t value = 0;
  constexpr auto operator<=>(const Ref&) const = default;
};

}  // namespace myrmex::vm

template <>
struct std::hash<myrmex::vm::Pid> {
  std::size_t operator()(const myrmex::vm::Pid& p) const noexcept {
    return std::hash<std::uint64_t>{}(p.value);
  }
};
