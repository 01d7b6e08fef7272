// Links and exit signals: link(), unlink(), spawn_link(), set_trap_exit(), and the Exit message.
//
// As in Erlang (OTP 25): a link is bidirectional and there is at most one per pair of processes. When a
// process ends, each process linked to it receives an exit signal with its exit reason, and the table below
// says what the signal does; exit(pid, reason) (vm/process.h) sends the same signal without a link.
//
//   receiver          reason `normal`          `kill` by exit(pid, kill)    any other reason R
//   not trapping      ignored (1)              ends with `killed`           ends with R
//   trapping          Exit{from, normal}       ends with `killed`           Exit{from, R}
//
//   (1) except exit(self(), normal), which ends the caller with `normal`.
//
// A process that ends with reason `kill` (exit(kill) on itself) sends its links the reason `kill`, which
// is trappable like any other; only exit(pid, kill) is untrappable. `killed` spreads along links as any
// other reason, so a crash travels down a chain of linked processes with its reason.
//
//   myrmex::set_trap_exit(true);
//   myrmex::Pid worker = myrmex::spawn_link([] { throw std::runtime_error("boom"); });
//   myrmex::receive([](myrmex::Exit& e) { std::puts(e.reason.to_string().c_str()); });
//   // {exception,<<"std::runtime_error">>,<<"boom">>}
#pragma once

#include <stdexcept>
#include <string>

#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex::vm {

// Exit is the message a trapping process gets for an exit signal (Erlang's {'EXIT', From, Reason}).
struct Exit {
  Pid from;
  Term reason;
};

// NoProc is thrown by link() when the other process does not exist and the caller does not trap exits
// (Erlang's noproc error). Uncaught, it ends the caller like any exception.
struct NoProc : std::runtime_error {
  explicit NoProc(Pid pid) : std::runtime_error("noproc: " + pid.to_string() + " is not alive"), pid(pid) {}
  Pid pid;
};

// link() links the caller and `pid`. Linking twice is one link; link(self()) does nothing. A dead or stale
// `pid`: a trapping caller gets Exit{pid, noproc}, any other caller NoProc. A PID of another node is
// dead to this one until distribution lands. Process only; charges.
void link(Pid pid);

// unlink() removes the link in both directions. Once it returns, no exit signal from that link reaches
// the caller any more (OTP 23's semantics); an Exit it already received stays in its mailbox. Unlinking
// what is not linked does nothing. Process only; charges.
void unlink(Pid pid);

// set_trap_exit() turns exit signals into Exit messages (true) or back (false), and returns the previous
// setting (Erlang's process_flag(trap_exit, On)). Process only; charges.
bool set_trap_exit(bool on);

}  // namespace myrmex::vm
