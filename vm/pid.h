// Pid: a process identifier, a u64 that stays valid (and dead) forever.
//
// Layout: [node slot: 12 bits][generation: 24 bits][slab index: 28 bits]. Node slot 0 is this node; other
// slots will name remote nodes (dist/). The generation changes each time a slab slot is reused, so a
// stale PID never reaches the slot's next process. Generation 0 is never issued: Pid{} is "no process".
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

  // to_string() prints Erlang's way: <node.index.generation>.
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
