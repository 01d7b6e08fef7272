// Term: Erlang's dynamic value (atom, integer, float, binary, pid, tuple, list).
//
// Exit reasons are terms, as in Erlang, and the type will carry distribution payloads and shell values.
// Terms are immutable values; copying one shares its tuple/list storage. Terms may be used from any thread.
//
// The atom table is process-wide: every node of the OS process shares it, as every process of an Erlang
// node shares that node's, and atoms are never freed. Interning a name that is already an atom takes no
// lock (a few loads); a new name takes a mutex. The runtime's own atoms are in `atoms` below, interned
// once: atoms::normal() costs a call and a copy of a pointer.
//
//   Term reason = Term::tuple({Term::atom("exception"), Term::binary("std::runtime_error"),
//   Term::binary("boom")}); if (reason == Term::atom("normal")) ... std::puts(reason.to_string().c_str()); //
//   {exception,<<"std::runtime_error">>,<<"boom">>}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vm/pid.h"

namespace myrmex::vm {

class Term {
 public:
  enum class Kind { atom, integer, floating, binary, pid, tuple, list };

  // Term() is the atom `undefined`.
  Term();
  Term(std::int64_t i) : v_(i) {}
  Term(int i) : v_(std::int64_t{i}) {}
  Term(double d) : v_(d) {}
  Term(Pid p) : v_(p) {}

  // atom() interns `name`: two atoms with the same name are the same atom (any thread).
  static Term atom(std::string_view name);
  static Term binary(std::string bytes);
  static Term tuple(std::vector<Term> elements);
  static Term list(std::vector<Term> elements);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_atom(std::string_view name) const;
  // atom_name() is the atom's name ("" for non-atoms).
  std::string_view atom_name() const;
  std::int64_t as_integer() const { return std::get<std::int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_binary() const { return *std::get<Binary>(v_).bytes; }
  Pid as_pid() const { return std::get<Pid>(v_); }
  // elements() of a tuple or list.
  const std::vector<Term>& elements() const;

  std::string to_string() const;
  friend bool operator==(const Term& a, const Term& b);

 private:
  struct Atom {
    const std::string* name;  // interned: equal names share the pointer
  };
  struct Binary {
    std::shared_ptr<const std::string> bytes;
  };
  struct Tuple {
    std::shared_ptr<const std::vector<Term>> elements;
  };
  struct List {
    std::shared_ptr<const std::vector<Term>> elements;
  };
  template <class V>
  explicit Term(std::in_place_t, V v) : v_(std::move(v)) {}

  std::variant<Atom, std::int64_t, double, Binary, Pid, Tuple, List> v_;
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
}  // namespace atoms

}  // namespace myrmex::vm
