// Malformed and hostile ETF: every malformed input below must be a DecodeError of its kind, never a crash, a
// huge allocation or a term; and the deepest term decode() accepts must fit a process's stack. The fuzzer's
// findings (tools/fuzz) that should be errors are added here, named fuzz_*.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dist/etf.h"
#include "tests/erl.h"
#include "tests/test_node.h"
#include "tests/vm/term_helpers.h"

using myrmex::test::hex;
using myrmex::test::unhex;
namespace dist = myrmex::dist;
using Kind = dist::DecodeError::Kind;

namespace {

struct Malformed {
  const char* name;
  std::string bytes;
  Kind kind;
};

// nested() is `depth` containers of one element each, each opened by `open` (its bytes up to the term
// inside) and closed by `close`, around the atom a: by default tuples, {{...{a}...}}.
std::string nested(int depth, const std::string& open = "\x68\x01", const std::string& close = "") {
  std::string bytes = "\x83";
  for (int i = 0; i < depth; ++i) bytes += open;
  bytes += unhex("770161");
  for (int i = 0; i < depth; ++i) bytes += close;
  return bytes;
}

std::vector<Malformed> malformed() {
  return {
      {"empty", "", Kind::truncated},
      {"version only", unhex("83"), Kind::truncated},
      {"version 130", unhex("826101"), Kind::bad_version},
      {"trailing byte", unhex("83610100"), Kind::trailing_bytes},
      {"tag 255", unhex("83ff"), Kind::unknown_tag},
      {"FUN_EXT (gone since OTP 23)", unhex("8375000000006400016d610061006a"), Kind::unknown_tag},
      {"INTEGER_EXT cut short", unhex("836200"), Kind::truncated},
      {"list of 2^32-1 elements in 2 bytes", unhex("836cffffffff6a6a"), Kind::truncated},
      {"tuple of 2^32-1 elements", unhex("8369ffffffff"), Kind::truncated},
      {"map of 2^32-1 pairs", unhex("8374ffffffff"), Kind::truncated},
      {"binary of 2^32-1 bytes", unhex("836dffffffff00"), Kind::truncated},
      {"string of 10 bytes in 3", unhex("836b000a616263"), Kind::truncated},
      {"atom that is not UTF-8", unhex("837701ff"), Kind::bad_atom},
      {"atom of 256 characters", unhex("83760100") + std::string(256, 'a'), Kind::bad_atom},
      {"pid whose node is an integer",
       unhex("83586101"
             "00000001"
             "00000000"
             "00000000"),
       Kind::bad_atom},
      {"bitstring with 9 bits in its last byte", unhex("834d000000010980"), Kind::bad_value},
      {"NaN", unhex("83467ff8000000000000"), Kind::bad_value},
      {"infinity", unhex("83467ff0000000000000"), Kind::bad_value},
      {"reference of 6 ids",
       unhex("835a0006"
             "770161"
             "00000000"
             "00000001"
             "00000002"
             "00000003"
             "00000004"
             "00000005"
             "00000006"),
       Kind::bad_value},
      {"nesting past max_depth", nested(600), Kind::too_deep},
      {"compressed, not zlib", unhex("835000000004deadbeef"), Kind::bad_compression},
      // zlib of <<97, 1>> (the integer 1: two bytes) under a header that says 100.
      {"compressed, size says 100", unhex("835000000064789c4b64040000c50063"), Kind::bad_compression},
      // zlib of a 40-byte STRING_EXT and one byte more: the error is in the inflated bytes, but its offset is
      // still one in the input (21 bytes).
      {"compressed, a byte after the inflated term", unhex("83500000002c789ccb66d0602012fc07001a1f0193"),
       Kind::trailing_bytes},
  };
}

}  // namespace

TEST_CASE("malformed input is a DecodeError of its kind, at an offset inside the input") {
  for (const Malformed& m : malformed()) {
    INFO(m.name, ": ", hex(m.bytes));
    auto term = dist::decode(m.bytes);
    if (term) {
      FAIL_CHECK("decoded to ", term->to_string());
      continue;
    }
    CHECK_FALSE(term.error().message.empty());
    CHECK(static_cast<int>(term.error().kind) == static_cast<int>(m.kind));
    CHECK(term.error().offset <= m.bytes.size());
  }
}

TEST_CASE("a decode error says where: the version byte, the unknown tag, the first extra byte") {
  CHECK(dist::decode(unhex("826101")).error().offset == 0);
  CHECK(dist::decode(unhex("8368026101ff")).error().offset == 5);
  CHECK(dist::decode(unhex("8361010000")).error().offset == 3);
}

TEST_CASE("nesting below max_depth decodes, nesting past it is too_deep") {
  dist::DecodeOptions options;
  options.max_depth = 100;
  CHECK(dist::decode(nested(99), options));
  auto deeper = dist::decode(nested(101), options);
  REQUIRE_FALSE(deeper);
  CHECK(deeper.error().kind == Kind::too_deep);
}

TEST_CASE("the deepest term decode() accepts decodes, encodes and goes away on a process's stack") {
  // max_depth is there so that input cannot exhaust a fiber's stack: each container kind, nested one level
  // short of the default limit, inside a process with the default stack. An overflow would end the
  // process with stack_overflow instead of normal.
  const int depth = static_cast<int>(dist::DecodeOptions{}.max_depth) - 1;
  const std::string shapes[][2] = {
      {"\x68\x01", ""},                    // tuples {{...}}
      {unhex("6c00000001"), unhex("6a")},  // lists [[...]]
      {unhex("6c000000016101"), ""},       // improper tails [1 | [1 | ...]], spliced into one list
      {unhex("74000000016101"), ""},       // map values #{1 => #{1 => ...}}
  };
  myrmex::Node node(myrmex::test::deep_term_config());
  for (const auto& [open, close] : shapes) {
    const std::string bytes = nested(depth, open, close);
    INFO("nested ", depth, " deep: ", hex(bytes.substr(0, 16)), "...");
    bool round_trip = false;
    const myrmex::Term why = node.run([&] {
      auto term = dist::decode(bytes);
      if (!term) return;
      auto again = dist::decode(dist::encode(*term));
      round_trip = again && *again == *term;
    });
    CHECK(why == myrmex::vm::atoms::normal());
    CHECK(round_trip);
  }
}
