// Erlang's term syntax, the parts that Term::to_string() (vm/term_print.cpp) writes and parse_term()
// (vm/term_parse.cpp) reads, so that the two agree. Internal to myrmex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vm/detail/utf8.h"

namespace myrmex::vm::detail {

// reserved_word() tells whether `name` is one of Erlang's reserved words (OTP 25's erl_scan), which an
// atom of that name must quote.
inline bool reserved_word(std::string_view name) {
  static constexpr std::string_view kWords[] = {
      "after", "and",  "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr",
      "bxor",  "case", "catch",   "cond",   "div",     "end",  "fun", "if",   "let",
      "not",   "of",   "or",      "orelse", "receive", "rem",  "try", "when", "xor"};
  for (std::string_view w : kWords)
    if (name == w) return true;
  return false;
}

// atom_start() and atom_char() are the characters of an atom written without quotes: a lowercase Latin-1
// letter starts one; letters, digits, _ and @ continue it.
inline bool atom_start(std::uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}
inline bool atom_char(std::uint32_t c) {
  return atom_start(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@' ||
         (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}

// kEscapes are the characters written as a backslash and a letter inside quotes.
struct Escape {
  char letter;
  std::uint32_t code_point;
};
inline constexpr Escape kEscapes[] = {{'n', '\n'}, {'r', '\r'}, {'t', '\t'}, {'v', '\v'},
                                      {'b', '\b'}, {'f', '\f'}, {'e', 27},   {'d', 127}};

}  // namespace myrmex::vm::detail
