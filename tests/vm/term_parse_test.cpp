// parse_term(): it reads what erl reads (checked against a real erl, tests/vm/term_helpers.h), and says where
// and why it cannot read the rest, since the shell shows those errors to its user.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/test_node.h"
#include "tests/vm/term_helpers.h"
#include "vm/term.h"
#include "vm/term_parse.h"

using myrmex::vm::kMaxParseDepth;
using myrmex::vm::parse_term;
using myrmex::vm::Term;

TEST_CASE("parse_term() reads Erlang's number, character, escape and layout syntax as erl does") {
  const std::vector<std::string> texts = {
      "16#ff",
      "-16#FF",
      "2#1_01",
      "36#zz",
      "1_000_000",
      "16#FFFFFFFFFFFFFFFFFFFF",
      "-10#123456789012345678901",
      "$a",
      "$\\n",
      "$\\x{3b1}",
      "-$a",
      "$ ",
      "$\\\\",
      "$\\'",
      "+5",
      "-0",
      "1.0E3",
      "1.0e+3",
      "2.5e-3",
      "1_0.2_5",
      "1.0e-400",
      "-1.0e-400",
      "\"\\q\\s\\d\\^a\\^Z\\101\\1234\\x41\\x{1F600}\\0\"",
      "'\\x{e9}t\\x{e9}'",
      "'a\\'b'",
      "\"ab\" \"cd\"\n \"ef\"",
      "<<\"ab\" \"cd\">>",
      "<<$a,$b>>",
      "<<\"\\x{3b1}\\x{e9}\"/utf8>>",
      "<<945/utf8,1>>",
      "<< 1 , 2 : 3 >>",
      "[$a|\"bc\"]",
      "{ 1 , % a comment\n 2 }",
      "[\n 1\n,\n\t2 ]",
      "#{ a=>1 , b =>2, a => 3}",
      "fun lists : sort / 1",
      "fun 'lists':'sort'/1",
      "[ 1 , 2 | [ 3 ] ]",
      "[1|[]]",
      "\"\"",
      "<<\"\">>",
      "\x61\x5f\x40Z9",
      "{a,{b,[c|d]},#{[] => <<>>}}",
  };
  const auto erl = myrmex::test::erl_print(myrmex::test::erl_list(texts));
  REQUIRE(erl.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO("text ", texts[i]);
    auto ours = parse_term(texts[i]);
    REQUIRE_MESSAGE(ours, ours.error().to_string());
    CHECK(ours->to_string() == erl[i].one_line);
  }
}

TEST_CASE("parse_term() reads UTF-8 text: strings and atoms as code points, binary strings as Latin-1") {
  CHECK(*parse_term("\"\xc3\xa9\xe6\x97\xa5\"") == Term::string("\xc3\xa9\xe6\x97\xa5"));
  CHECK(*parse_term("'\xc3\xa9t\xc3\xa9'") == Term::atom("\xc3\xa9t\xc3\xa9"));
  CHECK(*parse_term("\xc3\xa9t\xc3\xa9") == Term::atom("\xc3\xa9t\xc3\xa9"));  // Latin-1 letters, bare
  CHECK(*parse_term("'\\x{3b1}'") == Term::atom("\xce\xb1"));
  CHECK(*parse_term("$\xc3\xa9") == Term(0xe9));
  CHECK(*parse_term("$\xe6\x97\xa5") == Term(0x65e5));
  CHECK(*parse_term("<<\"\xc3\xa9\">>") == Term::binary("\xe9"));
  CHECK(*parse_term("<<\"\xc3\xa9\"/utf8>>") == Term::binary("\xc3\xa9"));
  CHECK(*parse_term("\"\xff\"") == Term::string("\xff"));  // not UTF-8: the byte, as Term::string() has it
}

TEST_CASE("parse_term() takes whitespace around the term and one final '.'") {
  CHECK(*parse_term("  {a, 1} .  \n") == Term::tuple({Term::atom("a"), 1}));
  CHECK(*parse_term("{a,1}.") == Term::tuple({Term::atom("a"), 1}));
  CHECK(*parse_term("1.") == Term(1));  // an integer and the final '.', not a float
  CHECK(*parse_term("1.5.") == Term(1.5));
  CHECK(*parse_term("% says what\nok % and more") == Term::atom("ok"));
  CHECK(*parse_term("<1.2.3>") == Term(myrmex::vm::Pid::make(1, 2, 3)));
  CHECK_FALSE(parse_term("1.."));
}

TEST_CASE("parse errors say where they are and what was expected there") {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"\"abc", 0, "unterminated string"},
      {"{a, \"abc", 4, "unterminated string"},
      {"'abc", 0, "unterminated quoted atom"},
      {"{1,2", 4, "expected ',' or '}'"},
      {"{1 2}", 3, "expected ',' or '}'"},
      {"[1 2]", 3, "expected ',', '|' or ']'"},
      {"[1|]", 3, "expected a term"},
      {"[1|2 3]", 5, "expected ']' after the tail of a list"},
      {"#{a}", 3, "expected '=>'"},
      {"#{a => }", 7, "expected a term"},
      {"#[]", 0, "expected '#{'"},
      {"<<1:9>>", 4, "a segment's size must be 1..8 bits"},
      {"<<1:0>>", 4, "a segment's size must be 1..8 bits"},
      {"<<300>>", 2, "300 does not fit in 8 bits"},
      {"<<8:3>>", 2, "8 does not fit in 3 bits"},
      {"<<1:3,2>>", 6, "only the last segment of a binary may be shorter than 8 bits"},
      {"<<-1>>", 2, "a binary segment must be a non-negative integer"},
      {"<<a>>", 2, "expected an integer, a character or a string in a binary"},
      {"<<1 2>>", 4, "expected ',' or '>>'"},
      {"<<\"\\x{3b1}\">>", 2, "a string in a binary must be Latin-1"},
      {"<<1/big>>", 4, "expected utf8 after '/'"},
      {"\"a\\x{zz}\"", 2, "bad escape"},
      {"\"\\xg\"", 1, "bad escape"},
      {"\"\\x4\"", 1, "bad escape"},
      {"'\\x{110000}'", 1, "bad escape"},
      {"\"\\x{d800}\"", 1, "bad escape"},
      {"{} x", 3, "expected the end of the text after the term"},
      {"1 2", 2, "expected the end of the text after the term"},
      {"", 0, "expected a term before the end of the text"},
      {"  ", 2, "expected a term before the end of the text"},
      {")", 0, "expected a term"},
      {"{X}", 1, "expected a term, not a variable"},
      {"_", 0, "expected a term, not a variable"},
      {"{case}", 1, "'case' is a reserved word: quote it to write the atom"},
      {"fun", 3, "expected fun Module:Function/Arity"},
      {"fun lists:sort", 14, "expected fun Module:Function/Arity"},
      {"fun lists:sort/x", 15, "expected fun Module:Function/Arity"},
      {"fun a:b/256", 8, "a fun's arity must be 0..255"},
      {std::string(258, '\'').replace(1, 256, 256, 'a'), 0, "atom longer than 255 characters"},
      {std::string(256, 'a') + "b", 0, "atom longer than 255 characters"},
      {"1.0e400", 0, "float out of range"},
      {"16#", 3, "expected a base-16 digit"},
      {"16#g", 3, "expected a base-16 digit"},
      {"37#1", 0, "expected a base of 2..36 before '#'"},
      {"1#1", 0, "expected a base of 2..36 before '#'"},
      {"1__0", 1, "expected the end of the text after the term"},
      {"$", 1, "expected a character after '$'"},
      {"<0.1>", 4, "expected a pid <Node.Index.Generation>"},
      {"<0.1.2", 6, "expected '>' to end the pid"},
      {"<a>", 1, "expected a term"},
      {"<4096.0.0>", 0, "pid out of range"},
      {"<0.268435456.0>", 0, "pid out of range"},
      {"<0.0.16777216>", 0, "pid out of range"},
      {"<0.0.99999999999999999999999>", 0, "pid out of range"},
      {"#Ref<0.1.2.3>", 0, "a reference (#Ref<...>) cannot be read, as in Erlang"},
      {"[#Port<0.5>]", 1, "a port (#Port<...>) cannot be read, as in Erlang"},
      {"#Fun<erl_eval.1.2>", 0, "a local fun (#Fun<...>) cannot be read, as in Erlang"},
      {std::string(kMaxParseDepth + 1, '[') + "1" + std::string(kMaxParseDepth + 1, ']'), kMaxParseDepth,
       "nesting deeper than 512 levels"},
  };
  for (const Case& c : cases) {
    INFO("text ", c.text);
    auto parsed = parse_term(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().offset == c.offset);
    CHECK(parsed.error().message.starts_with(c.message));
  }
  CHECK(parse_term("{1,2").error().to_string() == "expected ',' or '}' at offset 4");
}

TEST_CASE("what erl prints of references, ports and local funs is an error naming them, as in Erlang") {
  const auto erl = myrmex::test::erl_print("[make_ref(), hd(erlang:ports()), fun() -> ok end]");
  REQUIRE(erl.size() == 3);
  const char* kinds[] = {"a reference", "a port", "a local fun"};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("text ", erl[i].one_line);
    auto parsed = parse_term(erl[i].one_line);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().offset == 0);
    CHECK(parsed.error().message.starts_with(kinds[i]));
  }
}

TEST_CASE(
    "in a process, nesting to kMaxParseDepth parses and deeper nesting fails without overflowing the stack") {
  struct Nest {
    std::string open, close;
    std::string text(std::size_t depth) const {
      std::string out;
      for (std::size_t i = 0; i < depth; ++i) out += open;
      out += "x";
      for (std::size_t i = 0; i < depth; ++i) out += close;
      return out;
    }
  };
  const Nest nests[] = {{"{", "}"}, {"[", "]"}, {"#{k => ", "}"}, {"[1,2|", "]"}, {"#{", " => 1}"}};
  struct Outcome {
    std::string deepest_printed, one_more_error, hostile_error;
  };
  std::vector<Outcome> outcomes;
  myrmex::Node node(myrmex::test::deep_term_config());
  node.run([&] {
    for (const Nest& n : nests) {
      auto deepest = parse_term(n.text(kMaxParseDepth));
      auto one_more = parse_term(n.text(kMaxParseDepth + 1));
      auto hostile = parse_term(n.text(100000));
      outcomes.push_back({deepest ? deepest->to_string() : deepest.error().to_string(),
                          one_more ? "parsed" : one_more.error().to_string(),
                          hostile ? "parsed" : hostile.error().to_string()});
    }
  });
  REQUIRE(outcomes.size() == std::size(nests));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Nest& n = nests[i];
    INFO("nesting ", n.open, "x", n.close);
    const std::string error =
        "nesting deeper than 512 levels at offset " + std::to_string(kMaxParseDepth * n.open.size());
    CHECK(outcomes[i].deepest_printed == parse_term(n.text(kMaxParseDepth))->to_string());
    CHECK(outcomes[i].one_more_error == error);
    CHECK(outcomes[i].hostile_error == error);
  }
  CHECK(outcomes[0].deepest_printed == nests[0].text(kMaxParseDepth));
}
