// Local names: register_name(), unregister_name(), whereis(), registered(), send() and monitor() by name.
//
// As in Erlang (OTP 25: register/2, unregister/1, whereis/1, registered/0, Name ! Msg, monitor(process,
// Name)), a node keeps one table of names; a process holds at most one name, and a name names at most one
// process. A name is freed when its process ends, before anything shows that process dead (alive(), an Exit,
// a Down, a noproc): a process that gets the Down of a name's holder finds the name free.
//
//   myrmex::Pid logger = myrmex::spawn([] {
//     for (;;) myrmex::receive([](std::string& line) { std::puts(line.c_str()); });
//   });
//   if (auto r = myrmex::register_name("logger", logger); !r) { /* r.error() == NameError::taken, ... */ }
//   (void)myrmex::send("logger", std::string("hello"));   // Expected<SendResult, NameError>
//   myrmex::Pid p = myrmex::whereis("logger");              // Pid{} when nobody holds the name
//   myrmex::MonitorRef m = myrmex::monitor("logger");       // its Down carries name "logger"
//
// Names are byte strings of 1 to 255 bytes (Erlang's atom limit; an Erlang atom counts characters). They
// are compared byte for byte. Every function here is process only (it finds the node through the calling
// process; calling it elsewhere aborts with a message), charges, and never parks, except send() to a
// bounded mailbox with Overflow::block, which parks as send(Pid) does. A kill that reaches the caller inside
// one of them takes effect at its charge point, before it changed anything, or after it returned.
//
// Each node has its own names: two nodes in one OS process share none. Lookups (whereis, send, monitor)
// take no lock and write no shared memory, so all schedulers can look names up at once without contending
// (registry/detail/name_table.h).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mailbox/message.h"
#include "vm/expected.h"
#include "vm/monitors.h"
#include "vm/pid.h"
#include "vm/process.h"

namespace myrmex::registry {

using mailbox::Message;
using mailbox::SendResult;
using vm::Expected;
using vm::MonitorRef;
using vm::Pid;

// NameError says why a name operation failed (where Erlang raises badarg).
enum class NameError {
  taken,          // the name is held by another process
  already_named,  // the process holds a name already (that very name included, as in Erlang)
  noproc,         // the PID is dead, stale, ending, or of another node
  unknown_name,   // no process holds that name
  bad_name,       // empty, or longer than 255 bytes
};

// kMaxNameBytes is the longest name.
inline constexpr std::size_t kMaxNameBytes = 255;

// register_name() gives `pid` the name (Erlang's register/2). Fails with, checked in this order: bad_name;
// noproc when `pid` is not a live process of this node; already_named when it holds a name, this one
// included; taken when another process holds the name. Process only; charges.
[[nodiscard]] Expected<void, NameError> register_name(std::string_view name, Pid pid);

// unregister_name() frees the name, whoever holds it (Erlang's unregister/1); the holder goes on, unnamed.
// unknown_name if nobody holds it, bad_name for a bad name. Once it returns, whereis() gives Pid{}.
// Process only; charges.
Expected<void, NameError> unregister_name(std::string_view name);

// whereis() is the process holding the name, Pid{} if none (or a bad name). Once alive() calls the holder
// dead, or an Exit or a Down for it arrived, the name is free. Process only; charges; takes no lock.
[[nodiscard]] Pid whereis(std::string_view name);

// registered() lists the names held on this node, in no order (Erlang's registered/0). Not a snapshot: a
// name registered or freed meanwhile may be listed or not; every name held throughout is. Process only;
// charges.
[[nodiscard]] std::vector<std::string> registered();

// monitor() monitors the process holding the name now (Erlang's monitor(process, Name)): its Down carries
// `name` and that process's PID. Nobody holding it (or a bad name): a Down with reason `noproc` and
// pid Pid{} is queued at once. The monitor stays on that process if the name moves on. Process only;
// charges.
MonitorRef monitor(std::string_view name);

namespace detail {
// holder_for_send() is the holder of `name`, or why there is none (unknown_name, bad_name); `self` is the
// calling process, already charged for the send (vm::detail::sending_process()).
Expected<Pid, NameError> holder_for_send(vm::detail::Process* self, std::string_view name);
}  // namespace detail

// send() moves `message` to the process holding the name (Erlang's Name ! Msg), and returns what
// send(Pid) returns (noproc if the holder died after the lookup, mailbox_full, ...). No holder:
// unknown_name (Erlang raises badarg), and `message` is left as it was. Process only; charges; may park
// as send(Pid) does.
template <class T>
[[nodiscard]] Expected<SendResult, NameError> send(std::string_view name, T&& message) {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Message>,
                "forward a received Message as it is with send(name, std::move(message))");
  vm::detail::Process* self = vm::detail::sending_process();
  Expected<Pid, NameError> to = detail::holder_for_send(self, name);
  if (!to) return vm::unexpected(to.error());
  return vm::detail::send_from(self, *to, mailbox::box(std::forward<T>(message)));
}

// send(name, Message&&) forwards a received message as it is (see send(Pid, Message&&)). On an error the
// message stays with the caller. An empty Message is a programming error (aborts). Otherwise as above.
[[nodiscard]] Expected<SendResult, NameError> send(std::string_view name, Message&& message);

}  // namespace myrmex::registry
