// Test code library b: kind "tcounter" version 2, state {tcounter, N, History} (another C++ layout than a's).
// Its code_change refuses a count of 13. Built a second time as library c, version 3 (tests/code/meson.build
// sets TCOUNTER_VERSION and TCOUNTER_NAME), for a third version of the kind.
#include <stdexcept>

#include "tests/code/protocol.h"

#ifndef TCOUNTER_VERSION
#define TCOUNTER_VERSION 2
#define TCOUNTER_NAME "b"
#endif

namespace myrmex_test_code {

struct Note {
  std::string text;
  double x;
};

}  // namespace myrmex_test_code

namespace tcounter_b {

using namespace myrmex_test_code;
using myrmex::Term;

struct Server {
  using calls = myrmex::gen_server::Messages<Get, WhichCode, Unmatched>;
  using casts = myrmex::gen_server::Messages<Add, Park, NoteTo, Crash>;
  std::vector<std::string> unmatched;
  std::vector<std::int64_t> history;  // every Add's amount
  std::int64_t n = 0;

  Server() = default;
  explicit Server(const Term& args) : n(args.kind() == Term::Kind::integer ? args.as_integer() : 0) {}

  std::int64_t handle_call(Get&) { return n; }
  int handle_call(WhichCode&) { return TCOUNTER_VERSION; }
  std::vector<std::string> handle_call(Unmatched&) { return unmatched; }
  void handle_cast(Add& a) {
    n += a.by;
    history.push_back(a.by);
  }
  void handle_cast(Park& p) {
    (void)myrmex::send(p.tell, std::string("parked"));
    myrmex::receive([](Go&) {});
  }
  void handle_cast(NoteTo& t) { (void)myrmex::send(t.to, Note{"b", 2.5}); }
  void handle_cast(Crash&) { throw std::runtime_error("crash on request"); }
  void handle_info(myrmex::Message& m) {
    // A's Note (and c's) has this one's name: it must not pass for ours.
    if (m.is<Note>()) throw std::logic_error("another library's Note matched by name");
    unmatched.push_back(m.type_name());
  }

  Term export_state() const {
    std::vector<Term> h(history.begin(), history.end());
    return Term::tuple({Term::atom("tcounter"), Term(n), Term::list(std::move(h))});
  }
  static Server code_change(std::uint32_t, const Term& state) {
    Server s;
    s.n = state.elements()[1].as_integer();
    if (s.n == 13) throw std::runtime_error("13 is refused");
    if (state.elements().size() == 3)
      for (const Term& t : state.elements()[2].elements()) s.history.push_back(t.as_integer());
    return s;
  }
};

CountsUnload unloaded{TCOUNTER_NAME};

}  // namespace tcounter_b

MYRMEX_CODE_LIBRARY(myrmex::gen_server::version<tcounter_b::Server>("tcounter", TCOUNTER_VERSION))
