#include "vm/detail/atom_table.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::vm::detail {

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

}  // namespace

const std::string* intern_atom(std::string_view name) {
  // Never destroyed: processes of a node with static storage duration may exit during the program's exit.
  static AtomTable* table = new AtomTable;
  return table->intern(name);
}

}  // namespace myrmex::vm::detail
