#include "vm/term.h"

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::vm {

namespace {

// AtomTable interns names; atoms are never freed, so an atom is the address of its interned name.
//
// Looking up a name that is there takes no lock: the table is open-addressed and only ever gains entries
// (each set once, from null, with a release store that publishes the string it points to), so a reader
// that finds the name has the atom, and one that meets a null slot goes to the locked path, which looks
// again before it inserts. Growing copies the entries into a table twice the size and publishes it; old
// tables stay allocated, since readers may still be probing them (together they are smaller than the
// current one).
class AtomTable {
 public:
  AtomTable() { current_.store(make_slots(1024), std::memory_order_relaxed); }

  const std::string* intern(std::string_view name) {
    const std::size_t hash = std::hash<std::string_view>{}(name);
    // acquire: pairs with the release stores of grow() and insert(): the entries and strings seen are whole.
    if (const std::string* atom = find(*current_.load(std::memory_order_acquire), hash, name)) return atom;
    // On a seeded node's scheduler thread, hand the turn on while another holds the mutex: it may be
    // waiting for the turn at the yield point below.
    scheduler::detail::lock_taking_turns(mutex_, "atom.intern.contended");
    std::lock_guard lock(mutex_, std::adopt_lock);
    Slots* slots = current_.load(std::memory_order_relaxed);
    if (const std::string* atom = find(*slots, hash, name)) return atom;
    scheduler::detail::yield_point("atom.intern.inserting");
    if (2 * (count_ + 1) > slots->size) slots = grow(*slots);
    auto* atom = new std::string(name);
    insert(*slots, hash, atom);
    ++count_;
    return atom;
  }

 private:
  struct Slots {
    std::size_t size;  // a power of two
    std::unique_ptr<std::atomic<const std::string*>[]> entries;
  };

  Slots* make_slots(std::size_t size) {  // REQUIRES(mutex_) or construction
    auto slots =
        std::make_unique<Slots>(Slots{size, std::make_unique<std::atomic<const std::string*>[]>(size)});
    for (std::size_t i = 0; i < size; ++i) slots->entries[i].store(nullptr, std::memory_order_relaxed);
    all_.push_back(std::move(slots));
    return all_.back().get();
  }

  static const std::string* find(const Slots& slots, std::size_t hash, std::string_view name) {
    for (std::size_t i = hash;; ++i) {
      const std::string* atom = slots.entries[i & (slots.size - 1)].load(std::memory_order_acquire);
      if (!atom) return nullptr;
      if (*atom == name) return atom;
    }
  }

  static void insert(Slots& slots, std::size_t hash, const std::string* atom) {  // REQUIRES(mutex_)
    std::size_t i = hash;
    while (slots.entries[i & (slots.size - 1)].load(std::memory_order_relaxed)) ++i;
    // release: a reader that loads this pointer sees the string's contents.
    slots.entries[i & (slots.size - 1)].store(atom, std::memory_order_release);
  }

  Slots* grow(const Slots& old) {  // REQUIRES(mutex_)
    Slots* bigger = make_slots(2 * old.size);
    for (std::size_t i = 0; i < old.size; ++i)
      if (const std::string* atom = old.entries[i].load(std::memory_order_relaxed))
        insert(*bigger, std::hash<std::string_view>{}(*atom), atom);
    // release: a reader that loads the new table sees its entries.
    current_.store(bigger, std::memory_order_release);
    return bigger;
  }

  std::atomic<Slots*> current_{nullptr};
  std::mutex mutex_;
  std::size_t count_ = 0;                    // GUARDED_BY(mutex_)
  std::vector<std::unique_ptr<Slots>> all_;  // GUARDED_BY(mutex_): the current table and the ones it replaced
};

const std::string* intern(std::string_view name) {
  // Never destroyed: processes of a node with static storage duration may exit during the program's exit.
  static AtomTable* table = new AtomTable;
  return table->intern(name);
}

// The runtime's own atoms, interned once.
struct CommonAtoms {
  Term normal = Term::atom("normal");
  Term kill = Term::atom("kill");
  Term killed = Term::atom("killed");
  Term noproc = Term::atom("noproc");
  Term noconnection = Term::atom("noconnection");
  Term undefined = Term::atom("undefined");
  Term exception = Term::atom("exception");
  Term stack_overflow = Term::atom("stack_overflow");
  Term shutdown = Term::atom("shutdown");
  Term timeout = Term::atom("timeout");
};

const CommonAtoms& common() {
  static const CommonAtoms* atoms = new CommonAtoms;  // never destroyed, like the table
  return *atoms;
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
  char buf[48];
  std::snprintf(buf, sizeof buf, "<%u.%u.%u>", node(), index(), generation());
  return buf;
}

namespace atoms {
const Term& normal() {
  return common().normal;
}
const Term& kill() {
  return common().kill;
}
const Term& killed() {
  return common().killed;
}
const Term& noproc() {
  return common().noproc;
}
const Term& noconnection() {
  return common().noconnection;
}
const Term& undefined() {
  return common().undefined;
}
const Term& exception() {
  return common().exception;
}
const Term& stack_overflow() {
  return common().stack_overflow;
}
const Term& shutdown() {
  return common().shutdown;
}
const Term& timeout() {
  return common().timeout;
}
}  // namespace atoms

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
