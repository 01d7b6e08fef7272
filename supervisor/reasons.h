// Exit reasons as OTP reads them.
#pragma once

#include "vm/term.h"

namespace myrmex::supervisor {

// is_quiet_exit() is true for `normal`, `shutdown` and {shutdown, _}: the reasons that are no crash (no
// crash report, and a transient child is not restarted).
bool is_quiet_exit(const vm::Term& reason);

}  // namespace myrmex::supervisor
