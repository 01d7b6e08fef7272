// Term: Erlang's dynamic value, every kind the External Term Format carries.
//
// Exit reasons are terms, as in Erlang; so are distribution payloads, hot-swap state and shell values.
// Terms are immutable values of 16 bytes: numbers, atoms and PIDs live inside, everything else in one
// reference-counted block that copies share. A term may be used from any thread.
//
// Kinds, in Erlang's term order (number < atom < reference < fun < port < pid < tuple < map < nil < list <
// bitstring): integers (int64) and bignums are both Erlang integers, `list` holds nil, proper and improper
// lists, `binary` holds bitstrings too (a bit count in the last byte). Strings are lists of integers, as in
// Erlang, and print as "..." where Erlang's ~p would.
//
// The atom table is process-wide: every node of the OS process shares it, as every process of an Erlang
// node shares that node's, and atoms are never freed. Interning a name that is already an atom takes no
// lock (a few loads); a new name takes a mutex. The runtime's own atoms are in `atoms` below.
//
//   Term reason = Term::tuple({Term::atom("exception"), Term::binary("std::runtime_error"),
//                              Term::binary("boom")});
//   Term config = Term::map({{Term::atom("size"), 10}, {Term::atom("name"), Term::string("x")}});
//   if (const Term* size = config.find(Term::atom("size"))) ...
//   std::puts(config.to_string().c_str());  // #{name => "x",size => 10}
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vm/pid.h"

namespace myrmex::vm {

namespace detail {
struct TermBox;
}

struct MapEntry;
struct Fun;

class Term {
 public:
  enum class Kind : std::uint8_t {
    integer,   // fits in int64
    bignum,    // an integer outside int64's range (always: a bignum is never a small integer)
    floating,  // a double
    atom,
    reference,
    fun,   // opaque: survives a round trip, cannot be called
    port,  // opaque
    pid,
    tuple,
    map,
    list,    // nil, a proper list or an improper one
    binary,  // a binary or a bitstring
  };

  // Term() is the atom `undefined`.
  Term();
  Term(std::int64_t i) : kind_(Kind::integer), int_(i) {}
  Term(int i) : Term(std::int64_t{i}) {}
  Term(double d) : kind_(Kind::floating), float_(d) {}
  Term(Pid p) : kind_(Kind::pid), pid_(p.value) {}

  Term(const Term& o) noexcept : kind_(o.kind_), bits_(o.bits_) { retain(); }
  Term(Term&& o) noexcept : kind_(o.kind_), bits_(o.bits_) { o.kind_ = Kind::integer; }
  Term& operator=(const Term& o) noexcept;
  Term& operator=(Term&& o) noexcept;
  ~Term() { release(); }

  // atom() interns `name` (UTF-8, at most 255 characters to cross a node): equal names, equal atoms.
  static Term atom(std::string_view name);
  static Term binary(std::string_view bytes);
  // bitstring() keeps `bits` bits of the last byte (1..8; 8 is a binary); the unused low bits become 0.
  static Term bitstring(std::string_view bytes, unsigned bits);
  static Term tuple(std::vector<Term> elements);
  // list() is [e1, ..., en | tail]: a proper list when tail is nil. A list tail is spliced in, so
  // list({1}, list({2})) is [1,2].
  static Term list(std::vector<Term> elements, Term tail = nil());
  static Term nil();
  // string() is Erlang's string: the list of the code points of UTF-8 `text` (a byte that is not valid
  // UTF-8 becomes its own value).
  static Term string(std::string_view text);
  // map() keeps the last value of a repeated key.
  static Term map(std::vector<std::pair<Term, Term>> entries);
  // integer() is the integer of sign and magnitude (little-endian bytes, as ETF's bignums carry it),
  // a small integer when it fits in int64.
  static Term integer(bool negative, std::span<const std::uint8_t> magnitude);
  // reference() is a reference of the node in `node_slot` (a Pid's node field) with 1 to 5 id words.
  static Term reference(std::uint32_t node_slot, std::span<const std::uint32_t> ids);
  static Term port(std::uint32_t node_slot, std::uint64_t id);
  static Term fun(Fun f);

  Kind kind() const { return kind_; }
  bool is_atom(std::string_view name) const;
  bool is_nil() const { return kind_ == Kind::list && !box_; }
  // atom_name() is the atom's name ("" for non-atoms).
  std::string_view atom_name() const;

  // The accessors below throw std::invalid_argument on a term of another kind.
  std::int64_t as_integer() const;
  double as_float() const;
  Pid as_pid() const;
  // as_binary() is the bytes of a binary or bitstring (with the last, partial byte of a bitstring).
  std::string_view as_binary() const;
  // bits_in_last_byte() is 1..8; 8 for a binary.
  unsigned bits_in_last_byte() const;
  // elements() of a tuple, or of a list (those before its tail).
  std::span<const Term> elements() const;
  // tail() is nil for a proper list, the last tail of an improper one.
  const Term& tail() const;
  // map_entries() are the map's entries in key order.
  std::span<const MapEntry> map_entries() const;
  // find() is the value of `key` in a map, or nullptr.
  const Term* find(const Term& key) const;
  bool bignum_negative() const;
  // bignum_magnitude() is the magnitude as little-endian bytes, without high zero bytes.
  std::span<const std::uint8_t> bignum_magnitude() const;
  // node_slot() of a pid, reference or port.
  std::uint32_t node_slot() const;
  std::span<const std::uint32_t> reference_ids() const;
  std::uint64_t port_id() const;
  const Fun& as_fun() const;

  // to_string() prints Erlang syntax on one line, as io_lib:format("~p") would without line breaks (pids
  // as <slot.index.generation>).
  std::string to_string() const;

  // == is Erlang's =:= (exact: 1 and 1.0 differ). <=> is Erlang's term order, made total by putting an
  // integer before a float of equal value (as Erlang orders map keys), so terms can be sorted and be keys.
  friend bool operator==(const Term& a, const Term& b);
  friend std::strong_ordering operator<=>(const Term& a, const Term& b);
  // compare() is Erlang's own ==/< order: numbers by value (1 == 1.0).
  static std::weak_ordering compare(const Term& a, const Term& b);

 private:
  friend struct detail::TermBox;
  explicit Term(Kind kind, detail::TermBox* box) : kind_(kind), box_(box) {}
  bool boxed() const {
    return kind_ != Kind::integer && kind_ != Kind::floating && kind_ != Kind::atom && kind_ != Kind::pid &&
           box_;
  }
  void retain() const noexcept;
  void release() noexcept;
  [[noreturn]] void wrong_kind(const char* wanted) const;
  template <class Box>
  const Box* box_as(Kind kind, const char* wanted) const;

  Kind kind_;
  union {
    std::int64_t int_;
    double float_;
    const std::string* atom_;  // interned: equal names share the pointer
    std::uint64_t pid_;
    detail::TermBox* box_;  // null for an empty tuple, map, binary and for nil
    std::uint64_t bits_;
  };
};

struct MapEntry {
  Term key;
  Term value;
};

// Fun is an Erlang fun as it crossed the wire: an export fun (fun m:f/a) names its module, function and
// arity; a local fun (fun(X) -> ... end) keeps its ETF body whole, so it goes back out unchanged.
struct Fun {
  bool exported = false;
  Term module;    // an atom
  Term function;  // an atom (export funs)
  unsigned arity = 0;
  std::uint32_t index = 0;  // local funs: OldIndex, for printing #Fun<module.index.uniq>
  std::uint32_t uniq = 0;   // local funs: OldUniq
  std::string encoding;     // local funs: the NEW_FUN_EXT bytes after the tag
};

// atoms are the atoms the runtime itself uses (exit reasons, signal names), interned once. Any thread.
namespace atoms {
const Term& normal();
const Term& kill();
const Term& killed();
const Term& noproc();
const Term& noconnection();
const Term& undefined();
const Term& exception();
const Term& stack_overflow();
const Term& shutdown();
const Term& timeout();
const Term& true_();
const Term& false_();
}  // namespace atoms

}  // namespace myrmex::vm
