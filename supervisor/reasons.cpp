#include "supervisor/reasons.h"

namespace myrmex::supervisor {

bool is_quiet_exit(const vm::Term& reason) {
  if (reason == vm::atoms::normal() || reason == vm::atoms::shutdown()) return true;
  return reason.kind() == vm::Term::Kind::tuple && reason.elements().size() == 2 &&
         reason.elements()[0] == vm::atoms::shutdown();
}

}  // namespace myrmex::supervisor
