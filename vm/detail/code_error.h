// How the code server's parts (vm/code.cpp, vm/detail/code_*.cpp) write a code::CodeError.
//
// Internal to myrmex.
#pragma once

#include <string>
#include <utility>

#include "vm/code.h"
#include "vm/term.h"

namespace myrmex::vm::detail {

inline code::CodeError code_error(code::CodeError::Kind kind, std::string message, Term reason = {}) {
  code::CodeError e;
  e.kind = kind;
  e.message = std::move(message);
  e.reason = std::move(reason);
  return e;
}

// version_name() is "counter version 2", for messages.
inline std::string version_name(const std::string& kind, code::Version version) {
  return kind + " version " + std::to_string(version);
}

}  // namespace myrmex::vm::detail
