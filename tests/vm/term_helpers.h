// Helpers of the term tests (printing, order, parsing): what a real erl prints for terms written in our
// syntax, and a node whose processes can hold the deepest terms.
//
// Our syntax is Erlang's but for pids, which erl cannot write: `<0.5.1>` goes to erl as
// list_to_pid("<0.5.1>"). erl's output comes back in UTF-8 (a Latin-1 character of a string or binary, such
// as the byte 233 in <<"\x{e9}">>, is the UTF-8 of that character, as Term::to_string() writes it).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "tests/erl.h"
#include "tests/test_node.h"

namespace myrmex::test {

// deep_term_config() is a one-scheduler node with processes of the default 256 KiB stack, which holds
// kMaxParseDepth levels of nesting; or 4 MiB under the sanitizers, whose redzones make frames many times
// larger.
inline NodeConfig deep_term_config() {
  NodeConfig c = config(1);
  if (scheduler::detail::under_sanitizer()) c.scheduler.stack_size = 4 * 1024 * 1024;
  return c;
}

// ErlPrinted is how erl prints one term with ~p: on one line, and as ~p breaks it at 80 columns.
struct ErlPrinted {
  std::string one_line;
  std::string broken;
};

// pid_length() is the length of the pid <N.N.N> at text[i], or 0 if none starts there.
inline std::size_t pid_length(const std::string& text, std::size_t i) {
  std::size_t j = i + 1;
  for (int field = 0; field < 3; ++field) {
    if (field > 0 && (j >= text.size() || text[j++] != '.')) return 0;
    const std::size_t digits = j;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == digits) return 0;
  }
  return text[i] == '<' && j < text.size() && text[j] == '>' ? j + 1 - i : 0;
}

// to_erl() is `ours` with each pid made Erlang source.
inline std::string to_erl(const std::string& ours) {
  std::string out;
  for (std::size_t i = 0; i < ours.size();) {
    if (std::size_t n = pid_length(ours, i)) {
      out += "list_to_pid(\"" + ours.substr(i, n) + "\")";
      i += n;
    } else {
      out += ours[i++];
    }
  }
  return out;
}

// erl_list() is the Erlang list of `terms` (our syntax), one a line.
inline std::string erl_list(const std::vector<std::string>& terms) {
  std::string out = "[";
  for (std::size_t i = 0; i < terms.size(); ++i) out += (i ? ",\n" : "\n") + to_erl(terms[i]);
  return out + "]";
}

// erl_print() is how erl prints each element of the list that Erlang expression `list` evaluates to.
inline std::vector<ErlPrinted> erl_print(const std::string& list) {
  const std::string out = erl_eval(
      "lists:foreach(fun(T) -> io:format(\"~s ~s~n\", [binary:encode_hex(unicode:characters_to_binary("
      "io_lib:print(T, 1, 100000, -1))), "
      "binary:encode_hex(unicode:characters_to_binary(io_lib:format(\"~p\", "
      "[T])))]) end, " +
      list + ")");
  std::vector<ErlPrinted> printed;
  std::istringstream lines(out);
  for (std::string one_line, broken; lines >> one_line >> broken;)
    printed.push_back({unhex(one_line), unhex(broken)});
  return printed;
}

}  // namespace myrmex::test
