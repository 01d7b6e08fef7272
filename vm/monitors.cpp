// The monitor API (vm/monitors.h): find the calling process, charge it, and run the protocol in
// relations.cpp.
#include "vm/monitors.h"

#include <chrono>

#include "vm/detail/process.h"
#include "vm/receive.h"

namespace myrmex::vm {

namespace {
constexpr int kMonitorCost = 2;  // two control blocks touched under their locks
}  // namespace

MonitorRef monitor(Pid pid) {
  detail::Process& self = detail::self_process("monitor");
  self.charge(kMonitorCost);
  return MonitorRef{detail::monitor(self, pid, {})};
}

bool demonitor(MonitorRef ref) {
  detail::Process& self = detail::self_process("demonitor");
  self.charge(kMonitorCost);
  return detail::demonitor(self, ref.value);
}

bool demonitor(MonitorRef ref, DemonitorFlush) {
  if (demonitor(ref)) return true;  // active until now: no Down for it was ever queued
  receive(when([ref](const Down& d) { return d.ref == ref; }, [](Down&) {}),
          after(std::chrono::milliseconds(0), [] {}));
  return false;
}

}  // namespace myrmex::vm
