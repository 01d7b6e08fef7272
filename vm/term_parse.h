// parse_term(): a Term from Erlang term syntax, the text Term::to_string() and Erlang's ~p print.
//
//   auto t = vm::parse_term("{ok, #{name => \"x\", size => 10}, [1,2|3], <<1,2:3>>}.");
//   if (!t) std::puts(t.error().to_string().c_str());  // e.g. "expected ',' or '}' at offset 12"
//
// It reads one term, with optional whitespace and %-comments around it and an optional final '.':
//   integers   42, -7, 123456789012345678901234567890, 16#ff, 2#1010, 1_000, $a, $\n
//   floats     1.0, -0.0, 1.0e10, 1.5e-300 (a '.' must be followed by a digit: "1." is the integer 1)
//   atoms      ok, 'hello world', 'case', '\x{3b1}' (a bare reserved word such as case is an error)
//   strings    "a\tb" (lists of code points; UTF-8 text; adjacent strings join: "ab" "c" is "abc")
//   binaries   <<"x">>, <<1,2,3>>, <<1,2:3>>, <<"é"/utf8>>, <<>>
//   tuples, lists [1,2|T], maps #{a => 1}, pids <slot.index.generation>, export funs fun m:f/2.
// Escapes are Erlang's: \b \d \e \f \n \r \s \t \v \' \" \\, octal \NNN, \xNN, \x{H...}, \^a; any other
// \c is c itself.
//
// Where it differs from Erlang: a binary segment is a byte (0..255, a string's code points too) unless it
// is /utf8, and only the last segment may be shorter (`<<5:3>>`, size 1..8), so <<300>> and <<1:9>> are
// errors rather than truncated or packed. References, ports and local funs (#Ref<...>, #Port<...>,
// #Fun<...>) cannot be read, as in Erlang.
//
// Nesting deeper than kMaxParseDepth is an error, so hostile input cannot overflow a process's stack.
// Any thread; it does not park.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vm/expected.h"
#include "vm/term.h"

namespace myrmex::vm {

// kMaxParseDepth is how deep tuples, lists and maps may nest in parse_term()'s input.
inline constexpr std::size_t kMaxParseDepth = 512;

// ParseError says where parsing stopped (a byte offset into the text) and what was expected there.
struct ParseError {
  std::size_t offset = 0;
  std::string message;  // e.g. "expected ',' or '}'"

  // to_string() is "<message> at offset <offset>".
  std::string to_string() const;
};

// parse_term() is the one term written in `text`, or where and why it is not one.
Expected<Term, ParseError> parse_term(std::string_view text);

}  // namespace myrmex::vm
