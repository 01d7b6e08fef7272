// The atom table: interned atom names, shared by every node of the OS process.
//
// Internal to myrmex (vm/term.h's Term::atom is the public way in).
#pragma once

#include <string>
#include <string_view>

namespace myrmex::vm::detail {

// intern_atom() is the one string of `name`: equal names give the same pointer, which stays valid for the
// life of the OS process. A name already interned takes no lock. Any thread.
const std::string* intern_atom(std::string_view name);

}  // namespace myrmex::vm::detail
