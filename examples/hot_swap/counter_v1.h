// Version 1 of the counter, built into the program: it counts.
#pragma once

#include "examples/hot_swap/counter.h"

namespace counter_v1 {

struct Server {
  using calls = myrmex::gen_server::Messages<counter::Get, counter::History, counter::OutOfOrder>;
  using casts = myrmex::gen_server::Messages<counter::Add>;

  std::int64_t count = 0;
  counter::Order order;

  std::int64_t handle_call(counter::Get&) { return count; }
  std::vector<std::int64_t> handle_call(counter::History&) { return {}; }  // v1 remembers nothing
  std::int64_t handle_call(counter::OutOfOrder&) { return order.violations; }
  void handle_cast(counter::Add& a);

  // Its state crosses a swap as {Count, Order}.
  myrmex::Term export_state() const;
  static Server code_change(std::uint32_t old_version, const myrmex::Term& state);
};

// version() is "counter" version 1, for myrmex::code::add().
myrmex::code::VersionSpec version();

}  // namespace counter_v1
