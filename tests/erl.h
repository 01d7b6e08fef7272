// Running a real `erl` from a test: the reference for Erlang's encodings, order and printing.
//
// The test command installs erlang-base, so a missing `erl` fails the test rather than skipping it.
// Each call starts one `erl` (a few hundred ms): batch the terms of a test into one call.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace myrmex::test {

// erl_eval() runs Erlang `expressions` (comma-separated, no final period) in `erl -noshell` and is what
// they printed to stdout. A failure to start erl or a crash in the expressions fails the test.
inline std::string erl_eval(std::string_view expressions) {
  char path[] = "/tmp/myrmex-erl-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE_MESSAGE(fd >= 0, "mkstemp failed");
  close(fd);
  std::ofstream(path) << expressions << ", halt(0).";
  std::string command = std::string("erl -noshell -eval \"$(cat ") + path + ")\" 2>&1 </dev/null";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe, "could not run erl");
  std::array<char, 4096> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  int status = pclose(pipe);
  std::remove(path);
  REQUIRE_MESSAGE(status == 0, "erl failed (is erlang-base installed?): ", out);
  return out;
}

// hex() is `bytes` as lowercase hex, for binary:decode_hex(<<"...">>) on the Erlang side.
inline std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// unhex() is the bytes of lowercase or uppercase hex (what binary:encode_hex/1 prints).
inline std::string unhex(std::string_view text) {
  auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out += static_cast<char>(value(text[i]) * 16 + value(text[i + 1]));
  return out;
}

}  // namespace myrmex::test
