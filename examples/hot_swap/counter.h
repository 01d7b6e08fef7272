// The counter's protocol: the messages every version of the "counter" kind answers, shared by the program
// and libcounter_v2.so (a message type must be the same type on both sides of a swap), and the part of
// the state both versions keep.
#pragma once

#include <myrmex/myrmex.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace counter {

inline constexpr const char* kKind = "counter";

// Add is a client's cast: its seq-th add (seq counts 1, 2, 3, ... per client).
struct Add {
  std::int64_t client;
  std::int64_t seq;
  std::int64_t by;
};
// Get is the count.
struct Get {
  using reply_type = std::int64_t;
};
// History is the last values the count took, oldest first: v2 remembers 10, v1 none.
struct History {
  using reply_type = std::vector<std::int64_t>;
};
inline constexpr std::size_t kHistory = 10;
// OutOfOrder is how many casts arrived out of their client's order.
struct OutOfOrder {
  using reply_type = std::int64_t;
};

// Order checks that each client's casts arrive in the order it sent them.
struct Order {
  std::map<std::int64_t, std::int64_t> last_seq;  // client -> the last seq seen
  std::int64_t violations = 0;

  void see(const Add& a) {
    std::int64_t& last = last_seq[a.client];
    if (a.seq != last + 1) ++violations;
    last = a.seq;
  }
};

// decode() reads a state term, or throws: a code_change that throws refuses the swap.
template <class T>
T decode(const myrmex::Term& t) {
  auto d = myrmex::from_term<T>(t);
  if (!d) throw std::invalid_argument("counter state: " + d.error().message);
  return std::move(*d);
}

}  // namespace counter

// Order crosses a swap as {order, #{Client => LastSeq}, Violations}.
template <>
struct myrmex::codec<counter::Order>
    : myrmex::record_codec<counter::Order, "order", &counter::Order::last_seq, &counter::Order::violations> {
};
