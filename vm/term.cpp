#include "vm/term.h"

#include <cstdio>
#include <mutex>
#include <unordered_set>

namespace myrmex::vm {

namespace {

// The atom table is process-wide, like an Erlang node's: atoms are never freed.
const std::string* intern(std::string_view name) {
  static std::mutex mutex;
  static std::unordered_set<std::string>* table = new std::unordered_set<std::string>();
  std::lock_guard lock(mutex);
  return &*table->emplace(name).first;
}

void append(std::string& out, const Term& t);

void append_elements(std::string& out, const std::vector<Term>& es) {
  for (std::size_t i = 0; i < es.size(); ++i) {
    if (i) out += ',';
    append(out, es[i]);
  }
}

void append(std::string& out, const Term& t) {
  switch (t.kind()) {
    case Term::Kind::atom:
      out += t.atom_name();
      break;
    case Term::Kind::integer:
      out += std::to_string(t.as_integer());
      break;
    case Term::Kind::floating: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", t.as_float());
      out += buf;
      break;
    }
    case Term::Kind::binary:
      out += "<<\"" + t.as_binary() + "\">>";
      break;
    case Term::Kind::pid:
      out += t.as_pid().to_string();
      break;
    case Term::Kind::tuple:
      out += '{';
      append_elements(out, t.elements());
      out += '}';
      break;
    case Term::Kind::list:
      out += '[';
      append_elements(out, t.elements());
      out += ']';
      break;
  }
}

}  // namespace

std::string Pid::to_string() const {
  return "<" + std::to_string(node()) + "." + std::to_string(index()) + "." + std::to_string(generation()) +
         ">";
}

Term::Term() {
  static const std::string* undefined = intern("undefined");
  v_ = Atom{undefined};
}

Term Term::atom(std::string_view name) {
  return Term(std::in_place, Atom{intern(name)});
}
Term Term::binary(std::string bytes) {
  return Term(std::in_place, Binary{std::make_shared<const std::string>(std::move(bytes))});
}
Term Term::tuple(std::vector<Term> elements) {
  return Term(std::in_place, Tuple{std::make_shared<const std::vector<Term>>(std::move(elements))});
}
Term Term::list(std::vector<Term> elements) {
  return Term(std::in_place, List{std::make_shared<const std::vector<Term>>(std::move(elements))});
}

bool Term::is_atom(std::string_view name) const {
  const Atom* a = std::get_if<Atom>(&v_);
  return a && *a->name == name;
}

std::string_view Term::atom_name() const {
  const Atom* a = std::get_if<Atom>(&v_);
  return a ? std::string_view(*a->name) : std::string_view();
}

const std::vector<Term>& Term::elements() const {
  static const std::vector<Term> none;
  if (auto* t = std::get_if<Tuple>(&v_)) return *t->elements;
  if (auto* l = std::get_if<List>(&v_)) return *l->elements;
  return none;
}

std::string Term::to_string() const {
  std::string out;
  append(out, *this);
  return out;
}

bool operator==(const Term& a, const Term& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.kind()) {
    case Term::Kind::atom:
      return std::get<Term::Atom>(a.v_).name == std::get<Term::Atom>(b.v_).name;
    case Term::Kind::integer:
      return a.as_integer() == b.as_integer();
    case Term::Kind::floating:
      return a.as_float() == b.as_float();
    case Term::Kind::binary:
      return a.as_binary() == b.as_binary();
    case Term::Kind::pid:
      return a.as_pid() == b.as_pid();
    case Term::Kind::tuple:
    case Term::Kind::list:
      return a.elements() == b.elements();
  }
  return false;
}

}  // namespace myrmex::vm
