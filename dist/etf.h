// ETF: Erlang's External Term Format (erts' erl_ext_dist), the bytes term_to_binary/1 writes and
// binary_to_term/1 reads, and the payload of every distribution message.
//
// encode() writes what OTP 26 writes by default (UTF-8 atoms, NEW_FLOAT_EXT, NEW_PID_EXT,
// NEWER_REFERENCE_EXT, V4/NEW_PORT_EXT, MAP_EXT, BIT_BINARY_EXT, STRING_EXT for short byte lists), which
// OTP 25's binary_to_term reads. decode() reads those and the older tags OTP still accepts, and compressed
// terms (tag 80, zlib). A PID, reference or port carries its node's name and creation; a term from another
// node decodes to a PID whose node slot names that node (vm/detail/node_slots.h).
//
// Malformed input is never trusted: every length is checked against the bytes that are left before
// anything is allocated, nesting is limited, and the error says what was wrong and at which offset.
//
//   std::string bytes = myrmex::dist::encode(term);
//   auto back = myrmex::dist::decode(bytes);
//   if (!back) std::puts(back.error().to_string().c_str());  // "truncated at offset 7: ..."
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vm/expected.h"
#include "vm/term.h"

namespace myrmex::dist {

struct DecodeError {
  enum class Kind {
    truncated,        // the input ends inside a term
    trailing_bytes,   // a whole term, then more bytes
    bad_version,      // the first byte is not 131
    unknown_tag,      // a tag ETF does not have (or one OTP no longer accepts, such as FUN_EXT)
    too_deep,         // nesting beyond DecodeOptions::max_depth
    bad_atom,         // not UTF-8, longer than 255 characters, or in a place that needs an atom
    bad_value,        // a field out of its range (a bit count of 9, a float that is not finite, ...)
    bad_compression,  // zlib failed, or the size the header gave was not the size inflated
    node_table_full,  // a pid/ref/port of a node that would need a node slot, and none is left
  };
  Kind kind;
  std::size_t offset;   // in the input, where the faulty field starts
  std::string message;  // what was wrong, for a person

  // to_string() is "<kind> at offset N: message".
  std::string to_string() const;
};

struct DecodeOptions {
  // max_depth bounds nesting (tuples, lists, maps, funs), so a hostile input cannot exhaust a fiber's
  // stack: the decoder recurses once per level.
  unsigned max_depth = 512;
  // max_inflated bounds what a compressed term may inflate to. Terms take up to 16 bytes per byte of
  // encoding, so a zlib bomb (1,000:1) could otherwise make a 64 KiB input cost a gigabyte.
  std::size_t max_inflated = 16 << 20;
};

struct EncodeOptions {
  // compress (zlib level 1..9, 0 = off) writes tag 80 when the result is smaller, as term_to_binary's
  // {compressed, Level} does.
  int compress = 0;
};

// encode() is the term in ETF, starting with the version byte 131.
std::string encode(const vm::Term& term, EncodeOptions options = {});
// decode() reads one whole term (version byte first); extra bytes after it are an error.
vm::Expected<vm::Term, DecodeError> decode(std::string_view bytes, DecodeOptions options = {});

}  // namespace myrmex::dist
