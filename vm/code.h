// The code server: versions of a behaviour kind, loaded from the program or from a shared library at run
// time, and the hot swap that moves a live process from one version to another with its PID, mailbox,
// links, monitors and name (Erlang's code server, sys:change_code and code_change/3).
//
//   // counter_v2.cpp, built as a shared library (a meson shared_module) against the same Myrmex:
//   MYRMEX_CODE_LIBRARY(myrmex::gen_server::version<CounterV2>("counter", 2))
//
//   // the program:
//   myrmex::code::add(myrmex::gen_server::version<CounterV1>("counter", 1));   // from the program itself
//   Pid c = *myrmex::gen_server::start_link("counter", Term::nil());          // on the current version
//   myrmex::code::load_library("./libcounter_v2.so");                        // v2 is current, v1 old
//   myrmex::code::swap(c, 2);    // between two messages: v1 exports its state, v2's code_change reads it
//   myrmex::code::swap(c, 1);    // and back (a downgrade is the same operation)
//
// Each kind has at most two versions loaded, as each Erlang module has: the current one, which new
// processes start on, and the old one. Adding a third purges the old one first (its processes are killed),
// and a library is unloaded (dlclose) only once nothing can reach into it any more: no process runs one of
// its versions, and no message it boxed is still alive. Where this differs from Erlang: the README,
// "Where we differ from Erlang".
//
// The functions below are process only unless a comment says otherwise; those that wait park the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vm/expected.h"
#include "vm/pid.h"
#include "vm/process.h"
#include "vm/term.h"

namespace myrmex::vm::code {

using Version = std::uint32_t;

// VersionSpec is one version of one behaviour kind: how to start a process on it and how to build its
// state from another version's (code_change). gen_server::version<S>() makes one for a gen_server.
struct VersionSpec {
  std::string kind;
  Version version = 0;
  // start() makes the behaviour of a new process on this version, from the start argument.
  std::unique_ptr<Behaviour> (*start)(const Term& args) = nullptr;
  // change() makes this version's behaviour from the state another version exported with
  // Behaviour::export_state() (an upgrade or a downgrade: old_version says which). It runs as the process;
  // an exception refuses the swap, and the process stays on the version it ran.
  std::unique_ptr<Behaviour> (*change)(Version old_version, const Term& state) = nullptr;
};

// CodeError says why a code-server operation failed.
struct CodeError {
  enum Kind {
    not_loaded,          // no such kind, or no such version of it loaded
    already_loaded,      // that version of that kind is loaded already
    bad_library,         // dlopen failed, or the library has no Myrmex entry point (`message` says which)
    abi_mismatch,        // the library was built against another Myrmex ABI (`message` has both)
    not_swappable,       // the process runs no version of a kind (a function, or a plain behaviour)
    code_change_failed,  // export_state() or code_change threw; `reason` is the exception's exit reason
    in_use,              // soft_purge: processes still run the old version (`count` of them)
    noproc,              // the process was not alive
    exited,              // the process ended before it swapped; `reason` is its exit reason
    timeout,             // no answer in time (the process may be parked inside a handler)
  };
  Kind kind = not_loaded;
  std::string message;
  Term reason;
  std::size_t count = 0;
  friend bool operator==(const CodeError& e, Kind k) { return e.kind == k; }
};

// add() registers a version from the program itself; it becomes the kind's current version (a third
// version purges the oldest first, see purge()). Errors: already_loaded.
Expected<void, CodeError> add(VersionSpec spec);

// LibraryInfo describes a loaded library.
struct LibraryInfo {
  std::string path;
  std::vector<std::pair<std::string, Version>> versions;  // kind, version
};
// load_library() dlopens `path` and adds every version it exports (MYRMEX_CODE_LIBRARY), each as add()
// does. A library built against another Myrmex ABI is refused before anything of it runs. Errors:
// bad_library, abi_mismatch, already_loaded (then nothing of it is added).
Expected<LibraryInfo, CodeError> load_library(const std::string& path);

// spawn() starts a behaviour-style process on the kind's current version (Erlang's spawn of a module's
// function): its behaviour is the version's start(args). gen_server::start_link(kind, args) is the
// gen_server form. Errors: not_loaded.
Expected<Pid, CodeError> spawn(const std::string& kind, const Term& args = Term::nil(),
                               const SpawnOptions& options = {});

// swap() moves `pid` to `version` of the kind it runs (sys:change_code). A system signal, so it overtakes
// the messages queued before it, but the process takes it only between two messages: never inside a
// handler, and a process parked in one (a receive, a call) swaps when the handler returns. No message is
// lost or reordered. Errors: noproc, exited, not_swappable, not_loaded (that version is not loaded, or
// is being purged), code_change_failed (the process runs on, on its old version), timeout. A process that
// swaps itself (from inside its handler) cannot wait for itself: the swap happens when the handler
// returns, and swap() returns at once without its outcome.
Expected<void, CodeError> swap(Pid pid, Version version,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// SwapAllResult counts what swap_all() did.
struct SwapAllResult {
  std::size_t swapped = 0;  // moved to the version (or on it already)
  std::size_t ended = 0;    // ended before they took the signal
  std::vector<std::pair<Pid, CodeError>> failed;
};
// swap_all() moves every process of `kind` to `version` and waits until each has answered. Errors:
// not_loaded, timeout.
Expected<SwapAllResult, CodeError> swap_all(const std::string& kind, Version version,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

// purge() drops the kind's old version (code:purge): the processes still on it are killed (reason
// `killed`), and once they have ended it is gone; its library is unloaded when nothing else holds it.
// Returns how many processes it killed. A kind without an old version: 0. Errors: not_loaded.
Expected<std::size_t, CodeError> purge(const std::string& kind);
// soft_purge() drops the old version only if no process runs it (code:soft_purge). Errors: not_loaded,
// in_use (nothing changes).
Expected<void, CodeError> soft_purge(const std::string& kind);

// KindInfo is one kind in which_kinds(): its versions (current first) with their process counts.
struct KindInfo {
  struct VersionInfo {
    Version version = 0;
    bool current = false;
    std::string library;  // empty: from the program
    std::size_t processes = 0;
  };
  std::string kind;
  std::vector<VersionInfo> versions;
};
// which_kinds() lists the node's kinds (code:all_loaded). Process only.
std::vector<KindInfo> which_kinds();

// libraries_open() is how many code libraries this OS process holds open (dlopen'd and not yet closed),
// over every node. Any thread.
std::size_t libraries_open();

// ---------------------------------------------------------------------------------------------------------
// The entry point of a code library.

// kAbi is the Myrmex ABI a library is built against. A library is loaded only if it equals the host's.
// Bump it with any change to a type that crosses the boundary (Behaviour, Message, VersionSpec, Term, the
// gen_server base, ...).
inline constexpr std::uint32_t kAbi = 1;

// LibraryExports is what a library's entry point returns. `abi` and `compiler` come first and are plain
// integers, so that the host can read them from a library built against any layout of the rest.
struct LibraryExports {
  std::uint32_t abi;
  std::uint32_t compiler;  // __GXX_ABI_VERSION
  const VersionSpec* versions;
  std::size_t count;
};

}  // namespace myrmex::vm::code

namespace myrmex::vm::detail {

// spawn_kind() is code::spawn() for the layers above vm/ (gen_server's start by kind), monitored by the
// caller from before the process can run. `prepare` sees the new behaviour first and may refuse it
// (false: nothing is spawned, and the error is not_loaded). Process only; charges.
Expected<std::pair<Pid, MonitorRef>, code::CodeError> spawn_kind(
    const std::string& kind, const Term& args, const SpawnOptions& options,
    const std::function<bool(Behaviour&)>& prepare);

}  // namespace myrmex::vm::detail

// MYRMEX_CODE_LIBRARY(spec, ...) defines a library's one C entry point, exporting the given versions.
#define MYRMEX_CODE_LIBRARY(...)                                                                         \
  extern "C" __attribute__((visibility("default"))) const ::myrmex::vm::code::LibraryExports*            \
  myrmex_code_library() {                                                                                \
    static const ::myrmex::vm::code::VersionSpec specs[] = {__VA_ARGS__};                                \
    static const ::myrmex::vm::code::LibraryExports exports{::myrmex::vm::code::kAbi, __GXX_ABI_VERSION, \
                                                            specs, sizeof(specs) / sizeof(specs[0])};    \
    return &exports;                                                                                     \
  }
