// The gen_server side of hot code swap (vm/code.h): a server type as a version of a kind, starting a
// server by kind, and swapping it by PID or name.
//
//   struct CounterV2 {                      // in its own library, with its own types
//     using calls = myrmex::gen_server::Messages<Get>;
//     std::int64_t n = 0;
//     std::vector<std::int64_t> last;
//     std::int64_t handle_call(Get&) { return n; }
//     // Its state as a term, and its state built from another version's term (code_change/3).
//     myrmex::Term export_state() const { return myrmex::Term(n); }
//     static CounterV2 code_change(std::uint32_t old_version, const myrmex::Term& state);
//   };
//   MYRMEX_CODE_LIBRARY(myrmex::gen_server::version<CounterV2>("counter", 2))
//
// A server's state must go through a Term because another version may have another C++ layout; the
// codecs of dist/codec.h (myrmex::to_term, from_term) write most states in a line.
#pragma once

#include <chrono>
#include <concepts>
#include <string>

#include "supervisor/gen_server.h"
#include "vm/code.h"

namespace myrmex::gen_server {

// version<S>() is the version `v` of `kind` whose servers are S: S's export_state() writes its state,
// S::code_change(old_version, state) reads another version's (and may throw to refuse the swap). A new
// server on it is S(args) when S takes a `const Term&`, else S{}.
template <class S>
vm::code::VersionSpec version(std::string kind, vm::code::Version v) {
  static_assert(
      requires(const S& s) {
        { s.export_state() } -> std::convertible_to<Term>;
      },
      "a swappable server needs `Term export_state() const`");
  static_assert(
      requires(vm::code::Version old, const Term& state) {
        { S::code_change(old, state) } -> std::same_as<S>;
      },
      "a swappable server needs `static S code_change(std::uint32_t old_version, const Term& state)`");
  return {std::move(kind), v, &detail::ServerProcess<S>::start_version,
          &detail::ServerProcess<S>::change_version};
}

// start() and start_link() start a server on the current version of `kind` (OTP's gen_server:start_link(
// Module, Args, Options)); otherwise as their forms that take a server object. A kind that is not loaded:
// StartError::failed with reason {not_loaded, Kind}. A supervisor's child started this way comes back
// on the kind's current version each time it is restarted.
inline Expected<Pid, StartError> start(const std::string& kind, const Term& args, StartOptions options = {}) {
  return detail::start_kind(kind, args, std::move(options));
}
inline Expected<Pid, StartError> start_link(const std::string& kind, const Term& args,
                                            StartOptions options = {}) {
  options.spawn.link = true;
  return detail::start_kind(kind, args, std::move(options));
}

// swap() is vm::code::swap() for a server named by PID or registered name.
inline Expected<void, vm::code::CodeError> swap(
    const ServerRef& server, vm::code::Version version,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const Pid pid = server.pid();
  if (!pid) {
    vm::code::CodeError e;
    e.kind = vm::code::CodeError::noproc;
    e.message = "no process is registered as " + server.name();
    e.reason = vm::atoms::noproc();
    return vm::unexpected(std::move(e));
  }
  return vm::code::swap(pid, version, timeout);
}

}  // namespace myrmex::gen_server
