// What a real erl prints for terms written in our syntax, for the tests of printing, order and parsing.
//
// Our syntax is Erlang's but for pids, which erl cannot write: `<0.5.1>` goes to erl as
// list_to_pid("<0.5.1>"). erl's output comes back in UTF-8 (a Latin-1 character of a string or binary, such
// as the byte 233 in <<"\x{e9}">>, is the UTF-8 of that character, as Term::to_string() writes it).
#pragma once

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/erl.h"

namespace myrmex::test {

// ErlPrinted is how erl prints one term with ~p: on one line, and as ~p breaks it at 80 columns.
struct ErlPrinted {
  std::string one_line;
  std::string broken;
};

// to_erl() is `ours` with each pid made Erlang source.
inline std::string to_erl(const std::string& ours) {
  static const std::regex pid(R"(<(\d+\.\d+\.\d+)>)");
  return std::regex_replace(ours, pid, "list_to_pid(\"<$1>\")");
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
