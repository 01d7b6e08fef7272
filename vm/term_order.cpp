// Erlang's term order: number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
#include <algorithm>
#include <cstring>

#include "vm/detail/bignum.h"
#include "vm/detail/node_slots.h"
#include "vm/term.h"

namespace myrmex::vm {

namespace {

using Kind = Term::Kind;

// Exact: the total order (1 before 1.0, map keys and == agree); Erlang: numbers by value.
enum class Mode { exact, erlang };

int rank(Kind k) {
  return k == Kind::integer || k == Kind::bignum || k == Kind::floating ? 0 : static_cast<int>(k);
}

std::weak_ordering compare_terms(const Term& a, const Term& b, Mode mode);

template <class T>
std::weak_ordering order(const T& a, const T& b) {
  return a < b   ? std::weak_ordering::less
         : b < a ? std::weak_ordering::greater
                 : std::weak_ordering::equivalent;
}

// signed_value() is an integer or bignum as a long double (rounded beyond 64 bits).
long double signed_value(const Term& t) {
  if (t.kind() == Kind::integer) return static_cast<long double>(t.as_integer());
  long double m = detail::to_long_double(t.bignum_magnitude());
  return t.bignum_negative() ? -m : m;
}

std::weak_ordering compare_numbers(const Term& a, const Term& b, Mode mode) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::integer && kb == Kind::integer) return order(a.as_integer(), b.as_integer());
  if (ka == Kind::floating && kb == Kind::floating) return order(a.as_float(), b.as_float());
  if (ka == Kind::bignum && kb == Kind::bignum) {
    if (a.bignum_negative() != b.bignum_negative())
      return a.bignum_negative() ? std::weak_ordering::less : std::weak_ordering::greater;
    int c = detail::compare_magnitudes(a.bignum_magnitude(), b.bignum_magnitude());
    if (a.bignum_negative()) c = -c;
    return order(c, 0);
  }
  if (ka != Kind::floating && kb != Kind::floating) {  // a bignum and an int64: the bignum is further out
    const Term& big = ka == Kind::bignum ? a : b;
    bool big_is_less = big.bignum_negative();
    return (ka == Kind::bignum) == big_is_less ? std::weak_ordering::less : std::weak_ordering::greater;
  }
  // An integer and a float. long double holds every int64 and every double exactly.
  long double x = ka == Kind::floating ? static_cast<long double>(a.as_float()) : signed_value(a);
  long double y = kb == Kind::floating ? static_cast<long double>(b.as_float()) : signed_value(b);
  std::weak_ordering c = order(x, y);
  if (c != 0 || mode == Mode::erlang) return c;
  return ka == Kind::floating ? std::weak_ordering::greater : std::weak_ordering::less;
}

// compare_identities() orders pids, references and ports by their node's name, then creation.
std::weak_ordering compare_nodes(std::uint32_t slot_a, std::uint32_t slot_b) {
  if (slot_a == slot_b) return std::weak_ordering::equivalent;
  const detail::NodeIdentity* x = detail::node_identity(slot_a);
  const detail::NodeIdentity* y = detail::node_identity(slot_b);
  if (!x || !y) return order(slot_a, slot_b);  // a node long gone: by slot
  if (auto c = order(x->name.atom_name(), y->name.atom_name()); c != 0) return c;
  return order(x->creation, y->creation);
}

std::weak_ordering compare_sequences(std::span<const Term> a, std::span<const Term> b, Mode mode) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (auto c = compare_terms(a[i], b[i], mode); c != 0) return c;
  return order(a.size(), b.size());
}

// compare_lists() orders lists as chains of cons cells: [1|2] < [1,2] because 2 < [2].
std::weak_ordering compare_lists(const Term& a, const Term& b, Mode mode) {
  if (a.is_nil() || b.is_nil()) return order(!a.is_nil(), !b.is_nil());  // nil is its own tail: stop here
  auto xs = a.elements(), ys = b.elements();
  std::size_t n = std::min(xs.size(), ys.size());
  for (std::size_t i = 0; i < n; ++i)
    if (auto c = compare_terms(xs[i], ys[i], mode); c != 0) return c;
  if (xs.size() == ys.size()) return compare_terms(a.tail(), b.tail(), mode);
  // One side is down to its tail (nil or a non-list), the other still has cells: a non-empty list.
  bool a_ended = xs.size() == n;
  const Term& tail = a_ended ? a.tail() : b.tail();
  bool tail_less = tail.is_nil() || rank(tail.kind()) < rank(Kind::list);
  return a_ended == tail_less ? std::weak_ordering::less : std::weak_ordering::greater;
}

std::weak_ordering compare_maps(const Term& a, const Term& b, Mode mode) {
  auto xs = a.map_entries(), ys = b.map_entries();
  if (xs.size() != ys.size()) return order(xs.size(), ys.size());
  // Keys compare exactly in either mode: they are ordered that way inside a map.
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (auto c = compare_terms(xs[i].key, ys[i].key, Mode::exact); c != 0) return c;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (auto c = compare_terms(xs[i].value, ys[i].value, mode); c != 0) return c;
  return std::weak_ordering::equivalent;
}

// compare_bits() orders bitstrings bit by bit, a prefix first. The unused bits of a last byte are zero, so
// comparing bytes and then lengths in bits gives that order.
std::weak_ordering compare_bits(const Term& a, const Term& b) {
  std::string_view x = a.as_binary(), y = b.as_binary();
  std::size_t n = std::min(x.size(), y.size());
  if (int c = n ? std::memcmp(x.data(), y.data(), n) : 0; c != 0) return order(c, 0);
  auto bits = [](const Term& t, std::string_view bytes) {
    return bytes.empty() ? 0 : (bytes.size() - 1) * 8 + t.bits_in_last_byte();
  };
  return order(bits(a, x), bits(b, y));
}

std::weak_ordering compare_funs(const Fun& a, const Fun& b) {
  if (a.exported != b.exported) return a.exported ? std::weak_ordering::greater : std::weak_ordering::less;
  if (auto c = order(a.module.atom_name(), b.module.atom_name()); c != 0) return c;
  if (a.exported) {
    if (auto c = order(a.function.atom_name(), b.function.atom_name()); c != 0) return c;
    return order(a.arity, b.arity);
  }
  if (auto c = order(a.index, b.index); c != 0) return c;
  if (auto c = order(a.uniq, b.uniq); c != 0) return c;
  return order(a.encoding, b.encoding);
}

std::weak_ordering compare_terms(const Term& a, const Term& b, Mode mode) {
  int ra = rank(a.kind()), rb = rank(b.kind());
  if (ra != rb) return order(ra, rb);
  switch (a.kind()) {
    case Kind::integer:
    case Kind::bignum:
    case Kind::floating:
      return compare_numbers(a, b, mode);
    case Kind::atom:
      return a.atom_name() == b.atom_name() ? std::weak_ordering::equivalent
                                            : order(a.atom_name(), b.atom_name());
    case Kind::reference: {
      if (auto c = compare_nodes(a.node_slot(), b.node_slot()); c != 0) return c;
      auto x = a.reference_ids(), y = b.reference_ids();
      if (x.size() != y.size()) return order(x.size(), y.size());
      for (std::size_t i = x.size(); i-- > 0;)  // the most significant word is the last
        if (x[i] != y[i]) return order(x[i], y[i]);
      return std::weak_ordering::equivalent;
    }
    case Kind::fun:
      return compare_funs(a.as_fun(), b.as_fun());
    case Kind::port:
      if (auto c = compare_nodes(a.node_slot(), b.node_slot()); c != 0) return c;
      return order(a.port_id(), b.port_id());
    case Kind::pid: {
      if (auto c = compare_nodes(a.node_slot(), b.node_slot()); c != 0) return c;
      Pid x = a.as_pid(), y = b.as_pid();
      if (x.generation() != y.generation()) return order(x.generation(), y.generation());
      return order(x.index(), y.index());
    }
    case Kind::tuple:  // the smaller tuple first, then element by element
      if (auto c = order(a.elements().size(), b.elements().size()); c != 0) return c;
      return compare_sequences(a.elements(), b.elements(), mode);
    case Kind::map:
      return compare_maps(a, b, mode);
    case Kind::list:
      return compare_lists(a, b, mode);
    case Kind::binary:
      return compare_bits(a, b);
  }
  return std::weak_ordering::equivalent;
}

}  // namespace

bool operator==(const Term& a, const Term& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::integer:
      return a.as_integer() == b.as_integer();
    case Kind::floating:
      return a.as_float() == b.as_float();
    case Kind::atom:
      return a.atom_name().data() == b.atom_name().data();  // interned
    case Kind::pid:
      return a.as_pid() == b.as_pid();
    default:
      return compare_terms(a, b, Mode::exact) == 0;
  }
}

std::strong_ordering operator<=>(const Term& a, const Term& b) {
  std::weak_ordering c = compare_terms(a, b, Mode::exact);
  return c < 0   ? std::strong_ordering::less
         : c > 0 ? std::strong_ordering::greater
                 : std::strong_ordering::equal;
}

std::weak_ordering Term::compare(const Term& a, const Term& b) {
  return compare_terms(a, b, Mode::erlang);
}

}  // namespace myrmex::vm
