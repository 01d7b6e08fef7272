// The link API (vm/links.h): find the calling process, charge it, and run the protocol in relations.cpp.
#include "vm/links.h"

#include <mutex>

#include "scheduler/detail/yield_point.h"
#include "vm/detail/process.h"

namespace myrmex::vm {

namespace {
constexpr int kLinkCost = 2;  // two control blocks touched under their locks
}  // namespace

void link(Pid pid) {
  detail::Process& self = detail::self_process("link");
  self.charge(kLinkCost);
  if (detail::link(self, pid)) return;
  // As Erlang's link/1: a trapping caller gets the noproc exit signal as a message, the others an error.
  if (self.trap_exit) {
    std::lock_guard g(self.signal_lock);
    self.mailbox.push_user_unbounded(mailbox::box(Exit{pid, atoms::noproc()}));
    return;
  }
  throw NoProc(pid);
}

void unlink(Pid pid) {
  detail::Process& self = detail::self_process("unlink");
  self.charge(kLinkCost);
  // The window between the check for signals above and the erase below: an exit of `pid` that erases
  // our side of the link first queues its signal there.
  scheduler::detail::yield_point("unlink.charged");
  detail::unlink(self, pid);
  // Such a signal takes effect now, inside unlink(), not at a later charge point: once unlink() has
  // returned, the link has no effect on the caller (a trapping caller's Exit is queued already).
  self.charge(0);
}

bool set_trap_exit(bool on) {
  detail::Process& self = detail::self_process("set_trap_exit");
  self.charge(1);
  std::lock_guard g(self.signal_lock);
  return std::exchange(self.trap_exit, on);
}

}  // namespace myrmex::vm
