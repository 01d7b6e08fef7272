// UTF-8, as atoms, strings and the parser need it. Internal to myrmex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace myrmex::vm::detail {

// append_utf8() appends code point `cp` (at most 0x10FFFF) in UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);
// next_code_point() reads the well-formed sequence at text[i] (no overlong form, no surrogate) into `cp`
// and is its length, or 0 if there is none.
std::size_t next_code_point(std::string_view text, std::size_t i, std::uint32_t& cp);
// next_char() is next_code_point(), except that a byte starting no valid sequence is a character of its
// own (Erlang's reading of text that is not quite UTF-8); it is never 0.
inline std::size_t next_char(std::string_view text, std::size_t i, std::uint32_t& cp) {
  if (std::size_t length = next_code_point(text, i, cp)) return length;
  cp = static_cast<unsigned char>(text[i]);
  return 1;
}

}  // namespace myrmex::vm::detail
