// The messages the test code libraries (libtcounter_a.so, libtcounter_b.so) and the tests share. Named
// (not in an anonymous namespace) and used by the test program too, so the libraries bind to the
// program's type_infos.
#pragma once

#include <myrmex/myrmex.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace myrmex_test_code {

struct Get {
  using reply_type = std::int64_t;
};
struct Add {
  std::int64_t by;
};
// Version is answered with the C++ version of the code that handled it (1: a, 2: b).
struct WhichCode {
  using reply_type = int;
};
// Park makes the server wait inside its handler (a nested receive) until it gets a Go.
struct Park {
  myrmex::Pid tell;  // gets "parked" once the handler waits
};
struct Go {};
// NoteTo makes the server send `to` a Note of its own code's type (each library defines one).
struct NoteTo {
  myrmex::Pid to;
};
// Unmatched is answered with the type names of the messages handle_info() could not read.
struct Unmatched {
  using reply_type = std::vector<std::string>;
};
struct Crash {};
// Spin makes a's server (only a handles it) tell `tell` "spinning", then wait in a blocking job of a's
// code (where signals wait) until *release is set: a process that stays inside the library's code, a kill
// notwithstanding, for as long as the test wants.
struct Spin {
  const std::atomic<bool>* release;
  myrmex::Pid tell;
};

// myrmex_test_library_unloaded() is defined by the test program; a library's CountsUnload, a static,
// calls it as dlclose unloads the library.
extern "C" void myrmex_test_library_unloaded(const char* name);
struct CountsUnload {
  const char* name;
  ~CountsUnload() { myrmex_test_library_unloaded(name); }
};

}  // namespace myrmex_test_code
