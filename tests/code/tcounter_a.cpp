// Test code library a: kind "tcounter" version 1, state {tcounter, N}. Refuses nothing.
#include <chrono>
#include <thread>

#include "tests/code/protocol.h"

namespace myrmex_test_code {

// Note has the same name in both libraries and another layout in each (what must never be matched by
// name across them).
struct Note {
  std::int64_t a;
};

}  // namespace myrmex_test_code

namespace tcounter_a {

using namespace myrmex_test_code;
using myrmex::Term;

struct Server {
  using calls = myrmex::gen_server::Messages<Get, WhichCode, Unmatched>;
  using casts = myrmex::gen_server::Messages<Add, Park, NoteTo, Crash, Spin>;
  std::int64_t n = 0;
  std::vector<std::string> unmatched;

  Server() = default;
  explicit Server(const Term& args) : n(args.kind() == Term::Kind::integer ? args.as_integer() : 0) {}

  std::int64_t handle_call(Get&) { return n; }
  int handle_call(WhichCode&) { return 1; }
  std::vector<std::string> handle_call(Unmatched&) { return unmatched; }
  void handle_cast(Add& a) { n += a.by; }
  void handle_cast(Park& p) {
    (void)myrmex::send(p.tell, std::string("parked"));
    myrmex::receive([](Go&) {});
  }
  void handle_cast(NoteTo& t) { (void)myrmex::send(t.to, Note{n}); }
  void handle_cast(Crash&) { throw std::runtime_error("crash on request"); }
  void handle_cast(Spin& s) {
    (void)myrmex::send(s.tell, std::string("spinning"));
    myrmex::blocking([r = s.release] {
      while (!r->load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  }
  void handle_info(myrmex::Message& m) { unmatched.push_back(m.type_name()); }

  Term export_state() const { return Term::tuple({Term::atom("tcounter"), Term(n)}); }
  // Reads its own state and b's ({tcounter, N, History}).
  static Server code_change(std::uint32_t, const Term& state) {
    Server s;
    s.n = state.elements()[1].as_integer();
    return s;
  }
};

CountsUnload unloaded{"a"};

}  // namespace tcounter_a

MYRMEX_CODE_LIBRARY(myrmex::gen_server::version<tcounter_a::Server>("tcounter", 1))
