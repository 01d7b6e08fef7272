// ETF against a real erl (OTP 25): what erl's term_to_binary writes decodes to the term it is, what
// encode() writes binary_to_term reads as the same term, and pids, references, ports and funs, which only
// a node can make, come back from a round trip as erl's own bytes. Each test case starts erl once.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dist/etf.h"
#include "tests/erl.h"
#include "tests/test_node.h"
#include "vm/detail/node_slots.h"

using myrmex::Pid;
using myrmex::Term;
using myrmex::test::erl_eval;
using myrmex::test::hex;
using myrmex::test::unhex;
using myrmex::vm::Fun;
namespace dist = myrmex::dist;
namespace vd = myrmex::vm::detail;

namespace {

// Case is a term both sides can build: Erlang source text and the Term it is.
struct Case {
  const char* name;
  const char* erlang;
  Term term;
  // same_bytes: OTP 25's term_to_binary(T, [{minor_version, 2}]) (UTF-8 atoms, as we write them) is our
  // encoding byte for byte. Not for maps of more than 32 keys, which erl writes in hash order.
  bool same_bytes = true;
};

Term atom(const char* name) {
  return Term::atom(name);
}

// big() is 2^(8 * bytes) (negated when `negative`) as a bignum: `bytes` zero bytes, then a 1.
Term big(bool negative, std::size_t bytes) {
  std::vector<std::uint8_t> magnitude(bytes, 0);
  magnitude.push_back(1);
  return Term::integer(negative, magnitude);
}

std::vector<Case> cases() {
  std::vector<Term> seq300;
  std::vector<std::pair<Term, Term>> map40;
  for (int i = 1; i <= 300; ++i) seq300.emplace_back(i);
  for (int i = 1; i <= 40; ++i) map40.emplace_back(i, i * i);
  const std::string e_acute = "\xc3\xa9";
  std::string e255;
  for (int i = 0; i < 255; ++i) e255 += e_acute;
  Fun sort;
  sort.exported = true;
  sort.module = atom("lists");
  sort.function = atom("sort");
  sort.arity = 1;
  return {
      {"int_255", "255", 255},
      {"int_256", "256", 256},
      {"int_neg1", "-1", -1},
      {"int32_max", "2147483647", 2147483647},
      {"int32_min", "-2147483648", std::int64_t{-2147483648}},
      {"int_2p31", "2147483648", std::int64_t{2147483648}},
      {"int64_max", "9223372036854775807", std::int64_t{9223372036854775807}},
      {"int64_min", "-9223372036854775808", std::int64_t{-9223372036854775807} - 1},
      {"big_2p64", "18446744073709551616", big(false, 8)},
      {"big_neg_2p64", "-18446744073709551616", big(true, 8)},
      {"big_2p2048", "1 bsl 2048", big(false, 256)},  // 257 magnitude bytes: LARGE_BIG_EXT
      {"float_pi", "3.141592653589793", 3.141592653589793},
      {"float_neg_zero", "-0.0", -0.0},
      {"float_1e300", "1.0e300", 1.0e300},
      {"float_denormal", "5.0e-324", 5.0e-324},
      {"atom_ok", "ok", atom("ok")},
      {"atom_empty", "''", atom("")},
      {"atom_latin1", "list_to_atom([$c, $a, $f, 233])", Term::atom("caf" + e_acute)},
      {"atom_utf8", "list_to_atom([26085, 26412, 35486])", atom("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e")},
      {"atom_255", "list_to_atom(lists:duplicate(255, $a))", Term::atom(std::string(255, 'a'))},
      {"atom_510_bytes", "list_to_atom(lists:duplicate(255, 233))", Term::atom(e255)},
      {"tuple_empty", "{}", Term::tuple({})},
      {"tuple_3", "{ok, 42, <<\"hello\">>}", Term::tuple({atom("ok"), 42, Term::binary("hello")})},
      {"tuple_300", "list_to_tuple(lists:seq(1, 300))", Term::tuple(seq300)},
      {"nil", "[]", Term::nil()},
      {"string", "\"hello\"", Term::string("hello")},
      {"string_unicode", "[26085, 26412]", Term::string("\xe6\x97\xa5\xe6\x9c\xac")},
      {"list_ints", "[1000, -2000]", Term::list({1000, -2000})},
      {"list_mixed", "[a, {b}, 1.5, \"c\"]",
       Term::list({atom("a"), Term::tuple({atom("b")}), 1.5, Term::string("c")})},
      {"list_300", "lists:seq(1, 300)", Term::list(seq300)},
      {"improper", "[1 | 2]", Term::list({1}, 2)},
      {"improper_atoms", "[a, b | c]", Term::list({atom("a"), atom("b")}, atom("c"))},
      {"binary_empty", "<<>>", Term::binary("")},
      {"binary_bytes", "<<0, 1, 255>>", Term::binary(std::string("\x00\x01\xff", 3))},
      {"bits_1", "<<1:1>>", Term::bitstring("\x80", 1)},
      {"bits_19", "<<\"ab\", 5:3>>", Term::bitstring("ab\xa0", 3)},
      {"map_empty", "#{}", Term::map({})},
      {"map_small", "#{a => 1, b => <<\"x\">>}", Term::map({{atom("a"), 1}, {atom("b"), Term::binary("x")}})},
      {"map_40", "maps:from_list([{I, I * I} || I <- lists:seq(1, 40)])", Term::map(map40), false},
      {"map_keys", "#{[1] => {}, 2 => 3.0, <<\"k\">> => nil}",
       Term::map({{Term::list({1}), Term::tuple({})}, {2, 3.0}, {Term::binary("k"), atom("nil")}})},
      {"fun_export", "fun lists:sort/1", Term::fun(sort)},
      {"nested", "{reply, [#{k => [1, 2, 3]}], {<<>>, -5, 1.0e10}}",
       Term::tuple({atom("reply"), Term::list({Term::map({{atom("k"), Term::list({1, 2, 3})}})}),
                    Term::tuple({Term::binary(""), -5, 1.0e10})})},
  };
}

// erl_lines() runs `expressions` in erl and is its output as name → the words after it, one line each.
std::map<std::string, std::vector<std::string>> erl_lines(const std::string& expressions) {
  std::map<std::string, std::vector<std::string>> lines;
  std::istringstream out(erl_eval(expressions));
  for (std::string line; std::getline(out, line);) {
    std::istringstream words(line);
    std::string name, word;
    words >> name;
    while (words >> word) lines[name].push_back(word);
  }
  return lines;
}

// kPrintEncodings defines P(Name, Term): one line of Name and the hex of term_to_binary(Term) by default,
// [compressed], [{minor_version, 0}] (FLOAT_EXT) and [{minor_version, 2}] (UTF-8 atoms).
constexpr const char* kPrintEncodings =
    "P = fun(Name, T) -> io:format(\"~s~s~n\", [Name, [[\" \", binary:encode_hex(term_to_binary(T, O))] || "
    "O <- [[], [compressed], [{minor_version, 0}], [{minor_version, 2}]]]]) end";

// decoded() is the term `hex_bytes` decodes to; a decode error fails the test.
Term decoded(const std::string& what, const std::string& hex_bytes) {
  auto term = dist::decode(unhex(hex_bytes));
  if (!term) FAIL_CHECK(what, ": ", term.error().to_string(), "\n  bytes: ", hex_bytes);
  return term ? *term : Term();
}

}  // namespace

TEST_CASE("what erl's term_to_binary writes decodes to the term it is, in every variant erl writes") {
  const std::vector<Case> all = cases();
  std::string script = kPrintEncodings;
  for (const Case& c : all) script += std::string(", P(\"") + c.name + "\", " + c.erlang + ")";
  auto lines = erl_lines(script);
  for (const Case& c : all) {
    INFO(c.name, " = ", c.erlang);
    REQUIRE(lines[c.name].size() == 4);
    const char* variants[] = {"default", "compressed", "minor_version 0", "minor_version 2"};
    for (int v = 0; v < 4; ++v) {
      INFO(variants[v], ": ", lines[c.name][v]);
      CHECK(decoded(c.name, lines[c.name][v]) == c.term);
    }
    if (c.same_bytes) CHECK(hex(dist::encode(c.term)) == hex(unhex(lines[c.name][3])));
  }
}

TEST_CASE("erl's binary_to_term reads what encode() writes as the same term") {
  // C(Name, Hex, T) prints whether our bytes read as T, and whether erl writes T back as those same bytes.
  const std::vector<Case> all = cases();
  std::string script =
      "C = fun(Name, Hex, T) -> Bytes = binary:decode_hex(Hex),"
      " Read = try binary_to_term(Bytes) catch error:badarg -> badarg end,"
      " Same = case term_to_binary(Read, [{minor_version, 2}]) of Bytes -> same; _ -> differs end,"
      " io:format(\"~s ~s ~s~n\", [Name, case Read =:= T of true -> ok; false -> mismatch end, Same]) end";
  for (const Case& c : all)
    script +=
        std::string(", C(\"") + c.name + "\", <<\"" + hex(dist::encode(c.term)) + "\">>, " + c.erlang + ")";
  auto lines = erl_lines(script);
  for (const Case& c : all) {
    INFO(c.name, " = ", c.erlang, "\n  ours: ", hex(dist::encode(c.term)));
    REQUIRE(lines[c.name].size() == 2);
    CHECK(lines[c.name][0] == "ok");
    if (c.same_bytes) CHECK(lines[c.name][1] == "same");
  }
}

TEST_CASE("pids, references, ports and funs from erl name erl's node and encode back to erl's bytes") {
  // erl is undistributed: its node is nonode@nohost with creation 0, and peer@host (creation 7) is a node
  // it has a pid of. Ours is nonode@nohost too, with a creation of its own, so erl's terms are remote.
  myrmex::Node node(myrmex::test::config(1));
  Pid me;
  node.run([&] { me = myrmex::self(); });
  std::string script = std::string(kPrintEncodings) +
                       ", P(pid, self()), P(ref, make_ref()), P(port, hd(erlang:ports())),"
                       " X = 7, P(fun_local, fun(Y) -> X + Y end),"
                       " P(peer_pid, binary_to_term(<<131, 88, 100, 0, 9, \"peer@host\", 0, 0, 0, 77,"
                       " 0, 0, 0, 1, 0, 0, 0, 7>>))";
  auto lines = erl_lines(script);
  struct Opaque {
    const char* name;
    Term::Kind kind;
    const char* node;
    std::uint32_t creation;
  };
  for (const Opaque& o : {Opaque{"pid", Term::Kind::pid, "nonode@nohost", 0},
                          Opaque{"ref", Term::Kind::reference, "nonode@nohost", 0},
                          Opaque{"port", Term::Kind::port, "nonode@nohost", 0},
                          Opaque{"peer_pid", Term::Kind::pid, "peer@host", 7}}) {
    INFO(o.name, ": ", lines[o.name].size() == 4 ? lines[o.name][3] : "(erl printed no line)");
    REQUIRE(lines[o.name].size() == 4);
    const Term t = decoded(o.name, lines[o.name][3]);
    REQUIRE(t.kind() == o.kind);
    CHECK(t.node_slot() != me.node());
    const vd::NodeIdentity* id = vd::node_identity(t.node_slot());
    REQUIRE(id);
    CHECK(id->name == atom(o.node));
    CHECK(id->creation == o.creation);
    CHECK(hex(dist::encode(t)) == hex(unhex(lines[o.name][3])));
    // With ATOM_EXT for the node name (erl's default), the same term.
    CHECK(decoded(o.name, lines[o.name][0]) == t);
    // The same node again is the same slot.
    CHECK(decoded(o.name, lines[o.name][3]).node_slot() == t.node_slot());
  }
  // A local fun keeps its body's bytes whole, so it goes back out as erl wrote it, atoms and all.
  const std::vector<std::string>& fun = lines["fun_local"];
  REQUIRE(fun.size() == 4);
  const Term f = decoded("fun_local", fun[0]);
  REQUIRE(f.kind() == Term::Kind::fun);
  CHECK_FALSE(f.as_fun().exported);
  CHECK(f.as_fun().module == atom("erl_eval"));  // a fun made by -eval is the evaluator's
  CHECK(f.as_fun().arity == 1);
  CHECK(decoded("fun_local compressed", fun[1]) == f);
  for (int v : {0, 2, 3}) CHECK(hex(dist::encode(decoded("fun_local", fun[v]))) == hex(unhex(fun[v])));
}

TEST_CASE("a pid, reference and port of this node come back from encode and decode as themselves") {
  myrmex::Node node(myrmex::test::config(1));
  Pid me;
  node.run([&] { me = myrmex::self(); });
  const std::uint32_t ids[] = {1, 2, 3};
  for (const Term& t : {Term(me), Term::reference(me.node(), ids), Term::port(me.node(), 5)}) {
    INFO(t.to_string());
    auto back = dist::decode(dist::encode(t));
    REQUIRE(back);
    CHECK(*back == t);
    CHECK(back->node_slot() == me.node());
  }
  CHECK(dist::decode(dist::encode(Term(me)))->as_pid() == me);
}

TEST_CASE("compressed terms cross both ways, and a term too small to gain is not compressed") {
  const Term repetitive =
      Term::list(std::vector<Term>(1000, Term::tuple({atom("hello"), Term::binary("world")})));
  const std::string plain = dist::encode(repetitive);
  const std::string packed = dist::encode(repetitive, {.compress = 6});
  CHECK(packed.size() < plain.size() / 10);
  REQUIRE(packed.size() > 2);
  CHECK(packed[1] == 'P');  // tag 80
  auto back = dist::decode(packed);
  REQUIRE(back);
  CHECK(*back == repetitive);
  CHECK(dist::encode(Term(1), {.compress = 6}) == dist::encode(Term(1)));

  auto lines = erl_lines(
      "T = lists:duplicate(1000, {hello, <<\"world\">>}),"
      " io:format(\"ours ~s~n\", [case binary_to_term(binary:decode_hex(<<\"" +
      hex(packed) +
      "\">>)) =:= T of true -> ok; false -> mismatch end]),"
      " io:format(\"theirs ~s~n\", [binary:encode_hex(term_to_binary(T, [{compressed, 6}]))])");
  REQUIRE(lines["ours"].size() == 1);
  CHECK(lines["ours"][0] == "ok");
  REQUIRE(lines["theirs"].size() == 1);
  CHECK(lines["theirs"][0].substr(0, 4) == "8350");
  CHECK(decoded("erl's compressed", lines["theirs"][0]) == repetitive);
}
