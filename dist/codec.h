// Codecs: how a C++ value becomes a term and back, for the values that leave the node.
//
// A local send moves the C++ value itself and never uses a codec. A type that may cross a node has one,
// a specialisation of myrmex::codec<T> with two static functions:
//
//   static Term to_term(const T&);
//   static Decoded<T> from_term(const Term&);  // a CodecError saying what did not fit
//
// The standard types have theirs below: integers (an error when a term does not fit the type), bool
// (true/false), floating point, std::string (a binary; a string list is read too), std::vector (a list),
// std::map (a map), std::optional (`undefined` or the value, Erlang's idiom), std::pair and std::tuple
// (tuples), Pid and Term. A struct's codec is one line with record_codec, which writes it as an Erlang
// record, {tag, Field1, ...}:
//
//   struct Point { int x; int y; };
//   template <> struct myrmex::codec<Point> : myrmex::record_codec<Point, "point", &Point::x, &Point::y> {};
//
//   Term t = myrmex::to_term(Point{1, 2});             // {point,1,2}
//   auto p = myrmex::from_term<Point>(t);              // Decoded<Point>; p->x == 1
//
// Using to_term/from_term on a type without a codec does not compile, and says so.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "vm/expected.h"
#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex {

struct CodecError {
  std::string message;  // "expected a tuple of 3 for point, got {point,1}"
};

template <class T>
using Decoded = vm::Expected<T, CodecError>;

// codec<T> is specialised for each type that can cross a node; the primary template has no members.
template <class T>
struct codec;

template <class T>
concept has_codec = requires(const T& value, const vm::Term& term) {
  { codec<T>::to_term(value) } -> std::same_as<vm::Term>;
  { codec<T>::from_term(term) } -> std::same_as<Decoded<T>>;
};

template <class T>
vm::Term to_term(const T& value) {
  static_assert(has_codec<T>,
                "this type has no myrmex::codec<T>: specialise it (record_codec makes that one line)");
  return codec<T>::to_term(value);
}

template <class T>
Decoded<T> from_term(const vm::Term& term) {
  static_assert(has_codec<T>,
                "this type has no myrmex::codec<T>: specialise it (record_codec makes that one line)");
  return codec<T>::from_term(term);
}

namespace detail {
// mismatch() is the error for a term that is not what a codec reads.
CodecError mismatch(std::string_view expected, const vm::Term& got);
// signed_in_range() and unsigned_in_range() are the term's integer if it is one in [min, max].
std::optional<std::int64_t> signed_in_range(const vm::Term& t, std::int64_t min, std::int64_t max);
std::optional<std::uint64_t> unsigned_in_range(const vm::Term& t, std::uint64_t max);
// unsigned_term() is v as a term (a bignum above int64's range).
vm::Term unsigned_term(std::uint64_t v);
// utf8_of_string_list() is the UTF-8 of a list of code points, if it is one.
std::optional<std::string> utf8_of_string_list(const vm::Term& t);
}  // namespace detail

template <std::integral T>
requires(!std::same_as<T, bool>) struct codec<T> {
  static vm::Term to_term(T v) {
    if constexpr (std::is_unsigned_v<T>)
      return detail::unsigned_term(v);
    else
      return vm::Term(static_cast<std::int64_t>(v));
  }
  static Decoded<T> from_term(const vm::Term& t) {
    if constexpr (std::is_unsigned_v<T>) {
      if (auto v = detail::unsigned_in_range(t, std::numeric_limits<T>::max())) return static_cast<T>(*v);
    } else {
      if (auto v = detail::signed_in_range(t, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()))
        return static_cast<T>(*v);
    }
    return vm::unexpected(detail::mismatch("an integer in the range of " + std::to_string(sizeof(T) * 8) +
                                               "-bit " + (std::is_unsigned_v<T> ? "unsigned" : "signed"),
                                           t));
  }
};

template <>
struct codec<bool> {
  static vm::Term to_term(bool b) { return b ? vm::atoms::true_() : vm::atoms::false_(); }
  static Decoded<bool> from_term(const vm::Term& t) {
    if (t == vm::atoms::true_()) return true;
    if (t == vm::atoms::false_()) return false;
    return vm::unexpected(detail::mismatch("true or false", t));
  }
};

template <std::floating_point T>
struct codec<T> {
  static vm::Term to_term(T v) { return vm::Term(static_cast<double>(v)); }
  // An integer is read too, as Erlang code often sends 1 where 1.0 is meant.
  static Decoded<T> from_term(const vm::Term& t) {
    if (t.kind() == vm::Term::Kind::floating) return static_cast<T>(t.as_float());
    if (t.kind() == vm::Term::Kind::integer) return static_cast<T>(t.as_integer());
    return vm::unexpected(detail::mismatch("a float", t));
  }
};

template <>
struct codec<std::string> {
  static vm::Term to_term(const std::string& s) { return vm::Term::binary(s); }
  static Decoded<std::string> from_term(const vm::Term& t) {
    if (t.kind() == vm::Term::Kind::binary && t.bits_in_last_byte() == 8) return std::string(t.as_binary());
    if (auto s = detail::utf8_of_string_list(t)) return std::move(*s);
    return vm::unexpected(detail::mismatch("a binary or a string", t));
  }
};

template <>
struct codec<vm::Pid> {
  static vm::Term to_term(vm::Pid p) { return vm::Term(p); }
  static Decoded<vm::Pid> from_term(const vm::Term& t) {
    if (t.kind() == vm::Term::Kind::pid) return t.as_pid();
    return vm::unexpected(detail::mismatch("a pid", t));
  }
};

template <>
struct codec<vm::Term> {
  static vm::Term to_term(const vm::Term& t) { return t; }
  static Decoded<vm::Term> from_term(const vm::Term& t) { return t; }
};

template <has_codec T>
struct codec<std::vector<T>> {
  static vm::Term to_term(const std::vector<T>& v) {
    std::vector<vm::Term> items;
    items.reserve(v.size());
    for (const T& x : v) items.push_back(codec<T>::to_term(x));
    return vm::Term::list(std::move(items));
  }
  static Decoded<std::vector<T>> from_term(const vm::Term& t) {
    if (t.kind() != vm::Term::Kind::list || !t.tail().is_nil())
      return vm::unexpected(detail::mismatch("a list", t));
    std::vector<T> out;
    out.reserve(t.elements().size());
    for (const vm::Term& e : t.elements()) {
      auto x = codec<T>::from_term(e);
      if (!x) return vm::unexpected(x.error());
      out.push_back(std::move(*x));
    }
    return out;
  }
};

template <has_codec K, has_codec V>
struct codec<std::map<K, V>> {
  static vm::Term to_term(const std::map<K, V>& m) {
    std::vector<std::pair<vm::Term, vm::Term>> entries;
    entries.reserve(m.size());
    for (const auto& [k, v] : m) entries.emplace_back(codec<K>::to_term(k), codec<V>::to_term(v));
    return vm::Term::map(std::move(entries));
  }
  static Decoded<std::map<K, V>> from_term(const vm::Term& t) {
    if (t.kind() != vm::Term::Kind::map) return vm::unexpected(detail::mismatch("a map", t));
    std::map<K, V> out;
    for (const vm::MapEntry& e : t.map_entries()) {
      auto k = codec<K>::from_term(e.key);
      if (!k) return vm::unexpected(k.error());
      auto v = codec<V>::from_term(e.value);
      if (!v) return vm::unexpected(v.error());
      out.emplace(std::move(*k), std::move(*v));
    }
    return out;
  }
};

template <has_codec T>
struct codec<std::optional<T>> {
  static vm::Term to_term(const std::optional<T>& o) {
    return o ? codec<T>::to_term(*o) : vm::atoms::undefined();
  }
  static Decoded<std::optional<T>> from_term(const vm::Term& t) {
    if (t == vm::atoms::undefined()) return std::optional<T>();
    auto x = codec<T>::from_term(t);
    if (!x) return vm::unexpected(x.error());
    return std::optional<T>(std::move(*x));
  }
};

namespace detail {
// read_into() decodes `t` into `into`, unless an earlier field already failed.
template <class X>
void read_into(X& into, const vm::Term& t, std::optional<CodecError>& error) {
  if (error) return;
  auto x = myrmex::from_term<X>(t);
  if (x)
    into = std::move(*x);
  else
    error = x.error();
}

// Tuple-like values (std::pair, std::tuple) as tuples of the same size.
template <class Tuple>
struct tuple_codec {
  static vm::Term to_term(const Tuple& value) {
    return std::apply([](const auto&... xs) { return vm::Term::tuple({myrmex::to_term(xs)...}); }, value);
  }
  static Decoded<Tuple> from_term(const vm::Term& t) {
    constexpr std::size_t n = std::tuple_size_v<Tuple>;
    if (t.kind() != vm::Term::Kind::tuple || t.elements().size() != n)
      return vm::unexpected(mismatch("a tuple of " + std::to_string(n), t));
    std::optional<CodecError> error;
    Tuple out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (read_into(std::get<I>(out), t.elements()[I], error), ...);
    }
    (std::make_index_sequence<n>());
    if (error) return vm::unexpected(std::move(*error));
    return out;
  }
};
}  // namespace detail

template <has_codec A, has_codec B>
struct codec<std::pair<A, B>> : detail::tuple_codec<std::pair<A, B>> {};
template <has_codec... Ts>
struct codec<std::tuple<Ts...>> : detail::tuple_codec<std::tuple<Ts...>> {};

// RecordTag is a record's name as a template argument: record_codec<Point, "point", ...>.
template <std::size_t N>
struct RecordTag {
  char text[N];
  constexpr RecordTag(const char (&s)[N]) { std::copy_n(s, N, text); }
  constexpr std::string_view view() const { return {text, N - 1}; }
};

// record_codec is the codec of a struct written as the Erlang record {tag, Field1, ...}, each field with
// its own codec. The struct must be default-constructible.
template <class T, RecordTag tag, auto... fields>
struct record_codec {
  static vm::Term to_term(const T& value) {
    return vm::Term::tuple({vm::Term::atom(tag.view()), myrmex::to_term(value.*fields)...});
  }
  static Decoded<T> from_term(const vm::Term& t) {
    constexpr std::size_t n = sizeof...(fields) + 1;
    if (t.kind() != vm::Term::Kind::tuple || t.elements().size() != n || !t.elements()[0].is_atom(tag.view()))
      return vm::unexpected(
          detail::mismatch("a tuple of " + std::to_string(n) + " tagged " + std::string(tag.view()), t));
    T out{};
    std::optional<CodecError> error;
    std::size_t i = 1;
    (detail::read_into(out.*fields, t.elements()[i++], error), ...);
    if (error) {
      error->message = std::string(tag.view()) + ": " + error->message;
      return vm::unexpected(std::move(*error));
    }
    return out;
  }
};

}  // namespace myrmex
