// Version 2 of the counter, built as libcounter_v2.so and loaded at run time: it counts and remembers the
// last 10 values the count took. Its types live in their own namespace: a code library binds to the
// program's symbols of the same name.
#include <deque>
#include <string>
#include <tuple>

#include "examples/hot_swap/counter.h"

namespace counter_v2 {

struct Server {
  using calls = myrmex::gen_server::Messages<counter::Get, counter::History, counter::OutOfOrder>;
  using casts = myrmex::gen_server::Messages<counter::Add>;

  std::int64_t count = 0;
  counter::Order order;
  std::deque<std::int64_t> last;  // the last kHistory values of count, oldest first

  // Not an aggregate: on one, g++ 12 -O3 warns falsely that Server{}'s std::map may be uninitialized.
  Server() = default;

  std::int64_t handle_call(counter::Get&) { return count; }
  std::vector<std::int64_t> handle_call(counter::History&) { return {last.begin(), last.end()}; }
  std::int64_t handle_call(counter::OutOfOrder&) { return order.violations; }
  void handle_cast(counter::Add& a) {
    order.see(a);
    count += a.by;
    last.push_back(count);
    if (last.size() > counter::kHistory) last.pop_front();
  }

  // Its state crosses a swap as {Count, Order, History}.
  myrmex::Term export_state() const {
    return myrmex::to_term(std::tuple(count, order, std::vector<std::int64_t>(last.begin(), last.end())));
  }
  // An upgrade from v1, whose state is {Count, Order}: the history starts empty.
  static Server code_change(std::uint32_t old_version, const myrmex::Term& state) {
    if (old_version != 1)
      throw std::invalid_argument("counter v2: no code_change from v" + std::to_string(old_version));
    auto [count, order] = counter::decode<std::tuple<std::int64_t, counter::Order>>(state);
    Server s;
    s.count = count;
    s.order = std::move(order);
    return s;
  }
};

}  // namespace counter_v2

MYRMEX_CODE_LIBRARY(myrmex::gen_server::version<counter_v2::Server>(counter::kKind, 2))
