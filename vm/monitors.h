// Monitors: monitor(), demonitor(), spawn_monitor(), and the Down message.
//
// As in Erlang (OTP 25): a monitor is one-way. When the monitored process ends, the watcher gets one
// Down message carrying the monitor's reference and the exit reason ({'DOWN', Ref, process, Pid, Reason}).
// Monitors stack: two monitor() calls on one process give two references and two Downs. Monitoring a dead
// or stale PID gives a Down with reason `noproc` at once.
//
//   auto [worker, ref] = myrmex::spawn_monitor([] { myrmex::exit(myrmex::Term::atom("done")); });
//   myrmex::receive(myrmex::when([&](const myrmex::Down& d) { return d.ref == ref; },
//                                [](myrmex::Down& d) { std::puts(d.reason.to_string().c_str()); }));  // done
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex::vm {

// MonitorRef names one monitor (a reference from the node's reference counter).
struct MonitorRef {
  std::uint64_t value = 0;
  constexpr auto operator<=>(const MonitorRef&) const = default;
};

// Down is the message a watcher gets when the monitored process ends. `name` is the registered name the
// monitor was set on (registry/'s monitor(name)), empty for a monitor on a PID; `pid` is then the process
// that held the name, or Pid{} when no process did.
struct Down {
  MonitorRef ref;
  Pid pid;
  Term reason;
  std::string name;
};

// monitor() starts monitoring `pid`. Process only; charges.
MonitorRef monitor(Pid pid);

// demonitor() stops a monitor. True if it was still active: no Down for it has been or will be queued.
// False if its Down is already in the caller's mailbox (it stays there), or `ref` is no monitor of the
// caller's (Erlang's demonitor(Ref, [info])). Process only; charges.
bool demonitor(MonitorRef ref);

// flush, as demonitor(ref, flush): also remove that monitor's Down if it is already queued (Erlang's
// [flush, info]). Costs a scan of the mailbox only when the monitor was no longer active.
struct DemonitorFlush {};
inline constexpr DemonitorFlush flush{};
bool demonitor(MonitorRef ref, DemonitorFlush);

}  // namespace myrmex::vm
