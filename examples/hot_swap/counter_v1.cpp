#include "examples/hot_swap/counter_v1.h"

#include <string>
#include <tuple>

namespace counter_v1 {

void Server::handle_cast(counter::Add& a) {
  order.see(a);
  count += a.by;
}

myrmex::Term Server::export_state() const {
  return myrmex::to_term(std::tuple(count, order));
}

// A downgrade from v2, whose state is {Count, Order, History}: v1 forgets the history.
Server Server::code_change(std::uint32_t old_version, const myrmex::Term& state) {
  if (old_version != 2)
    throw std::invalid_argument("counter v1: no code_change from v" + std::to_string(old_version));
  auto [count, order, history] =
      counter::decode<std::tuple<std::int64_t, counter::Order, std::vector<std::int64_t>>>(state);
  return Server{count, std::move(order)};
}

myrmex::code::VersionSpec version() {
  return myrmex::gen_server::version<Server>(counter::kKind, 1);
}

}  // namespace counter_v1
