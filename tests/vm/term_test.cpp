// Terms and the atom table. The atom table is shared by every node of the OS process and reached at every
// process exit, so looking up an atom that exists must not wait for anyone. Printing and term order are
// checked against a real erl (tests/vm/term_helpers.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"
#include "tests/vm/term_helpers.h"
#include "vm/term.h"
#include "vm/term_parse.h"

using myrmex::vm::Term;
namespace atoms = myrmex::vm::atoms;
namespace sd = myrmex::scheduler::detail;

TEST_CASE("the runtime's atoms are the interned atoms of their names") {
  CHECK(atoms::normal() == Term::atom("normal"));
  CHECK(atoms::kill() == Term::atom("kill"));
  CHECK(atoms::killed() == Term::atom("killed"));
  CHECK(atoms::noproc() == Term::atom("noproc"));
  CHECK(atoms::noconnection() == Term::atom("noconnection"));
  CHECK(atoms::undefined() == Term::atom("undefined"));
  CHECK(atoms::undefined() == Term());
  CHECK(atoms::exception() == Term::atom("exception"));
  CHECK(atoms::stack_overflow() == Term::atom("stack_overflow"));
  CHECK(atoms::shutdown() == Term::atom("shutdown"));
  CHECK(atoms::timeout() == Term::atom("timeout"));
  CHECK(atoms::normal().atom_name() == "normal");
  CHECK_FALSE(atoms::normal() == atoms::kill());
}

TEST_CASE("atoms interned by many threads at once are one atom per name") {
  // Enough new names to make the table grow while others look up.
  constexpr int kThreads = 4;
  constexpr int kNames = 20000;
  std::vector<std::vector<Term>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &got] {
      got[t].reserve(kNames);
      for (int i = 0; i < kNames; ++i) {
        int n = (i * 7919 + t * 104729) % kNames;  // each thread in its own order
        got[t].push_back(Term::atom("term_test_" + std::to_string(n)));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kNames; ++i) {
      int n = (i * 7919 + t * 104729) % kNames;
      const Term& a = got[t][i];
      if (a.atom_name() != "term_test_" + std::to_string(n) || !(a == Term::atom(a.atom_name()))) {
        FAIL("thread ", t, " got ", a.to_string(), " for term_test_", n);
      }
    }
  CHECK(Term::atom("term_test_0") == got[0][0]);
}

namespace {
// The hook holds the first thread that reaches "atom.intern.inserting" there until `release`.
std::atomic<bool> inserting_held{false};
std::atomic<bool> release_inserter{false};
thread_local bool is_inserter = false;
void hold_inserter(const char* name) {
  if (!is_inserter || std::strcmp(name, "atom.intern.inserting") != 0) return;
  inserting_held = true;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!release_inserter && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
}  // namespace

TEST_CASE("looking up an existing atom does not wait for a thread inserting a new one") {
  if (!sd::kYieldPoints) return;  // needs the yield point inside the insertion
  Term::atom("term_test_existing");
  sd::set_yield_hook(hold_inserter);
  std::thread inserter([] {
    is_inserter = true;
    Term::atom("term_test_new_atom_while_held");
  });
  while (!inserting_held) std::this_thread::yield();
  std::atomic<bool> looked_up{false};
  std::thread reader([&] {
    Term::atom("term_test_existing");
    Term::atom("normal");
    looked_up = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!looked_up && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool in_time = looked_up;
  release_inserter = true;
  inserter.join();
  reader.join();
  sd::set_yield_hook(nullptr);
  CHECK_MESSAGE(in_time, "a lookup of an existing atom waited for an insertion");
}

TEST_CASE("seeded: processes interning one new atom at once on two schedulers do not stop the node" *
          doctest::skip(!sd::kYieldPoints)) {
  // The inserter reaches the yield point `atom.intern.inserting` holding the table's mutex; the turn may
  // pass to the other scheduler thread, which must not block on that mutex (it would never give the turn
  // back), but hand the turn on until the mutex is free.
  long seeds = myrmex::test::for_each_seed(30, [](std::uint64_t seed) {
    myrmex::Node node(myrmex::test::config(2));
    std::atomic<int> done{0};
    node.run([&] {
      const std::string name = "term_test_seeded_" + std::to_string(seed);
      for (int k = 0; k < 4; ++k)
        myrmex::spawn([&done, name] {
          myrmex::yield();
          (void)Term::atom(name);
          ++done;
        });
      while (done.load() < 4) myrmex::yield();
    });
    CHECK(done.load() == 4);
  });
  CHECK(seeds > 0);
}

// Printing and order against a real erl. The terms are written once, in Erlang syntax, and reach our side
// through parse_term().

TEST_CASE("to_string() prints every kind of term as erl's ~p, and parse_term() reads erl's ~p back") {
  const std::vector<std::string> terms = {
      // atoms: bare, needing quotes, reserved words, Latin-1 letters, beyond Latin-1, control characters
      "ok",
      "nonode@nohost",
      "'hello world'",
      "'A'",
      "'_x'",
      "''",
      "'a\\'b\\\\c'",
      "'case'",
      "'cond'",
      "maybe",
      "'\\x{e9}cole'",
      "'\\x{c9}t\\x{e9}'",
      "'\\x{3b1}\\x{e9}'",
      "'\\n\\t\\e\\x{1}\\x{7f}\\x{9f}\\x{a0}'",
      "'[]'",
      "'1a'",
      // integers and bignums of both signs
      "0",
      "-1",
      "42",
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775808",
      "-9223372036854775809",
      "123456789012345678901234567890123456789",
      "-340282366920938463463374607431768211456",
      // floats
      "0.1",
      "100.0",
      "1.0e10",
      "1.0e-5",
      "0.0001",
      "1.2345678901234567e19",
      "-0.0",
      "0.0",
      "1.5e-300",
      "1.0e15",
      "1.0e16",
      "123456789012345.0",
      "1234567890123456.0",
      "9007199254740993.0",
      "1.0e22",
      "5.0e-324",
      "1.7976931348623157e308",
      "-1.5",
      "123.456",
      "1000000.0",
      "0.30000000000000004",
      // strings and lists
      "\"hello\"",
      "\"tab\\there\\nquote\\\"back\\\\slash\\r\\v\\f\\b\\e\"",
      "\"\\x{e9}t\\x{e9} \\x{a0}\"",
      "[945]",
      "[1,2,3]",
      "[0]",
      "[127]",
      "[159,160]",
      "[]",
      "[[]]",
      "[\"ab\",\"\"]",
      "[1|2]",
      "[1,2|3]",
      "[a|\"bc\"]",
      "[1,2|<<>>]",
      "[a,[b,[c,[]]]]",
      // binaries and bitstrings
      "<<>>",
      "<<\"hello\">>",
      "<<1,2,3>>",
      "<<\"\\x{e9}\\x{ff}\\x{a0}\">>",
      "<<0,255>>",
      "<<159>>",
      "<<127>>",
      "<<\"a\\nb\\e\\\"\">>",
      "<<1,2:3>>",
      "<<2:3>>",
      "<<\"ab\",5:4>>",
      "<<255:8>>",
      "<<1:1>>",
      // tuples, maps, funs, pids
      "{}",
      "{a,{b,{}}}",
      "{[],<<>>,#{}}",
      "#{}",
      "#{a => 1}",
      "#{b => #{c => [d]},1 => x,1.0 => y,a => {}}",
      "#{[1] => {},<<\"k\">> => \"v\",{} => #{}}",
      "fun lists:sort/1",
      "fun erlang:'+'/2",
      "fun 'A':'b c'/0",
      "<0.1.2>",
      "{<0.5.1>,<0.0.0>}",
      // long enough for ~p to break it over lines
      "[{first_key,\"a fairly long string value, long enough\"},{second_key,<<\"a long binary value too\">>},"
      "{third,#{nested => [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20], other => {x,y,z}}}]",
      "#{alpha => [\"one\",\"two\",\"three\"],beta => {<<\"four\">>,<<\"five\">>,<<\"six\">>},"
      "gamma => [7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]}",
      "{\"line one\\nline two\\nline three\\nline four\\nline five\\nline six\\nline seven\\nline eight\"}",
  };
  const std::vector<myrmex::test::ErlPrinted> erl = myrmex::test::erl_print(myrmex::test::erl_list(terms));
  REQUIRE(erl.size() == terms.size());
  int broken = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    INFO("term ", terms[i]);
    auto ours = myrmex::vm::parse_term(terms[i]);
    REQUIRE_MESSAGE(ours, ours.error().to_string());
    CHECK(ours->to_string() == erl[i].one_line);
    auto back = myrmex::vm::parse_term(erl[i].broken);
    REQUIRE_MESSAGE(back, erl[i].broken, ": ", back.error().to_string());
    CHECK(*back == *ours);
    broken += erl[i].broken.find('\n') != std::string::npos;
  }
  CHECK(broken >= 2);  // erl's line breaks were read back
}

TEST_CASE("terms sort as erl's lists:sort sorts them") {
  // No two of them are equal in Erlang's order (1 == 1.0), so the sorted order is the same in both.
  const std::vector<std::string> terms = {"{b}",
                                          "<<1,2:3>>",
                                          "[1|2]",
                                          "zz",
                                          "2.5",
                                          "#{a => 2}",
                                          "[]",
                                          "<0.5.1>",
                                          "-5",
                                          "<<>>",
                                          "{}",
                                          "[1,2]",
                                          "123456789012345678901234567890",
                                          "'B'",
                                          "fun lists:sort/1",
                                          "#{a => 1,b => 2}",
                                          "<<1:1>>",
                                          "[a|b]",
                                          "-1.0e300",
                                          "{a,b}",
                                          "\"abc\"",
                                          "<0.1.2>",
                                          "#{}",
                                          "<<1>>",
                                          "fun erlang:abs/1",
                                          "a",
                                          "[1]",
                                          "<<\"abc\">>",
                                          "#{1 => a}",
                                          "{1,{2}}",
                                          "-123456789012345678901234567890",
                                          "9223372036854775808",
                                          "1.0e300",
                                          "<<1,2>>",
                                          "#{1.0 => a}",
                                          "[[1]]",
                                          "0.5",
                                          "[1,2|3]",
                                          "#{b => 1}",
                                          "<0.2.1>",
                                          "fun lists:map/2",
                                          "{a}",
                                          "1",
                                          "''",
                                          "<<255>>",
                                          "#{a => 1}",
                                          "<<0:1>>",
                                          "[1|<<>>]",
                                          "9.3e18",
                                          "{1,{1}}",
                                          "[a]"};
  std::vector<Term> ours;
  for (const std::string& t : terms) ours.push_back(*myrmex::vm::parse_term(t));
  std::sort(ours.begin(), ours.end());
  const std::vector<myrmex::test::ErlPrinted> erl =
      myrmex::test::erl_print("lists:sort(" + myrmex::test::erl_list(terms) + ")");
  REQUIRE(erl.size() == ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    auto theirs = myrmex::vm::parse_term(erl[i].one_line);
    REQUIRE(theirs);
    CHECK_MESSAGE(ours[i] == *theirs, "position ", i, ": ours ", ours[i].to_string(), ", erl's ",
                  erl[i].one_line);
  }
}

TEST_CASE("references, funs, ports and pids sort by kind as in erl") {
  const std::uint32_t ids[] = {1, 2, 3};
  myrmex::vm::Fun local;
  local.module = Term::atom("erl_eval");
  local.index = 1;
  local.uniq = 2;
  const Term local_fun = Term::fun(local);
  const Term export_fun = *myrmex::vm::parse_term("fun lists:sort/1");
  std::vector<std::pair<Term, const char*>> ours = {
      {Term::port(1, 7), "port"}, {Term(myrmex::vm::Pid::make(1, 2, 3)), "pid"},
      {export_fun, "export_fun"}, {Term::reference(1, ids), "reference"},
      {local_fun, "local_fun"},   {Term::tuple({}), "tuple"},
      {Term::atom("a"), "atom"}};
  std::sort(ours.begin(), ours.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string kinds = "[";
  for (const auto& [term, kind] : ours) kinds += std::string(kinds.size() > 1 ? "," : "") + kind;
  kinds += "]";
  const auto erl = myrmex::test::erl_print(
      "[[if is_reference(X) -> reference; is_port(X) -> port; is_pid(X) -> pid; is_tuple(X) -> tuple; "
      "is_atom(X) -> atom; true -> case erlang:fun_info(X, type) of {type, external} -> export_fun; "
      "_ -> local_fun end end || X <- lists:sort([hd(erlang:ports()), self(), fun lists:sort/1, make_ref(), "
      "fun() -> ok end, {}, a])]]");
  REQUIRE(erl.size() == 1);
  CHECK(kinds == erl[0].one_line);
}

TEST_CASE("compare() is Erlang's == on numbers, <=> puts an integer before the equal float") {
  CHECK(Term::compare(Term(1), Term(1.0)) == std::weak_ordering::equivalent);
  CHECK(Term(1) < Term(1.0));
  CHECK_FALSE(Term(1) == Term(1.0));
  CHECK(Term::compare(Term(2), Term(1.5)) == std::weak_ordering::greater);
  const Term big = *myrmex::vm::parse_term("9223372036854775808");
  CHECK(Term::compare(big, Term(9223372036854775808.0)) == std::weak_ordering::equivalent);
  CHECK(big < Term(9223372036854775808.0));
  CHECK(Term::compare(Term::tuple({1, 2.0}), Term::tuple({1.0, 2})) == std::weak_ordering::equivalent);
}

// The Term API.

TEST_CASE("each constructor makes its kind, and its accessors give back what it was made of") {
  CHECK(Term(42).kind() == Term::Kind::integer);
  CHECK(Term(std::int64_t{-7}).as_integer() == -7);
  CHECK(Term(2.5).kind() == Term::Kind::floating);
  CHECK(Term(2.5).as_float() == 2.5);
  const myrmex::vm::Pid pid = myrmex::vm::Pid::make(3, 4, 5);
  CHECK(Term(pid).as_pid() == pid);
  CHECK(Term(pid).node_slot() == 3);
  CHECK(Term::atom("x").kind() == Term::Kind::atom);
  CHECK(Term::atom("x").is_atom("x"));
  CHECK_FALSE(Term::atom("x").is_atom("y"));
  CHECK(Term(1).atom_name().empty());
  CHECK(Term::binary("ab").as_binary() == "ab");
  CHECK(Term::binary("ab").bits_in_last_byte() == 8);
  CHECK(Term::binary("").as_binary().empty());
  CHECK(Term::bitstring("a\x80", 1).bits_in_last_byte() == 1);
  const Term tuple = Term::tuple({1, Term::atom("a")});
  REQUIRE(tuple.elements().size() == 2);
  CHECK(tuple.elements()[1] == Term::atom("a"));
  CHECK(Term::tuple({}).elements().empty());
  CHECK(Term::nil().is_nil());
  CHECK(Term::nil().kind() == Term::Kind::list);
  CHECK(Term::nil().elements().empty());
  const Term improper = Term::list({1, 2}, Term(3));
  CHECK(improper.elements().size() == 2);
  CHECK(improper.tail() == Term(3));
  CHECK(Term::list({1}).tail().is_nil());
  CHECK(Term::string("hi") == Term::list({'h', 'i'}));
  const std::uint8_t magnitude[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};  // 2^64
  const Term big = Term::integer(true, magnitude);
  CHECK(big.kind() == Term::Kind::bignum);
  CHECK(big.bignum_negative());
  CHECK(std::vector<std::uint8_t>(big.bignum_magnitude().begin(), big.bignum_magnitude().end()) ==
        std::vector<std::uint8_t>(std::begin(magnitude), std::end(magnitude)));
  const std::uint32_t ids[] = {7, 8, 9};
  const Term ref = Term::reference(2, ids);
  CHECK(ref.kind() == Term::Kind::reference);
  CHECK(ref.node_slot() == 2);
  CHECK(std::vector<std::uint32_t>(ref.reference_ids().begin(), ref.reference_ids().end()) ==
        std::vector<std::uint32_t>{7, 8, 9});
  const Term port = Term::port(2, 99);
  CHECK(port.kind() == Term::Kind::port);
  CHECK(port.node_slot() == 2);
  CHECK(port.port_id() == 99);
  myrmex::vm::Fun sort;
  sort.exported = true;
  sort.module = Term::atom("lists");
  sort.function = Term::atom("sort");
  sort.arity = 1;
  const Term fun = Term::fun(sort);
  CHECK(fun.kind() == Term::Kind::fun);
  CHECK(fun.as_fun().function == Term::atom("sort"));
  CHECK(fun.as_fun().arity == 1);
  CHECK(fun.to_string() == "fun lists:sort/1");
  sort.module = Term(1);
  CHECK_THROWS_AS(Term::fun(sort), std::invalid_argument);
  CHECK_THROWS_AS(Term::reference(1, {}), std::invalid_argument);
  CHECK_THROWS_AS(Term::bitstring("a", 9), std::invalid_argument);
}

TEST_CASE("an accessor of another kind throws std::invalid_argument") {
  const Term atom = Term::atom("a");
  CHECK_THROWS_AS(atom.as_integer(), std::invalid_argument);
  CHECK_THROWS_AS(atom.as_float(), std::invalid_argument);
  CHECK_THROWS_AS(atom.as_pid(), std::invalid_argument);
  CHECK_THROWS_AS(atom.as_binary(), std::invalid_argument);
  CHECK_THROWS_AS(atom.bits_in_last_byte(), std::invalid_argument);
  CHECK_THROWS_AS(atom.elements(), std::invalid_argument);
  CHECK_THROWS_AS(Term::tuple({1}).tail(), std::invalid_argument);
  CHECK_THROWS_AS(atom.map_entries(), std::invalid_argument);
  CHECK_THROWS_AS(atom.find(Term(1)), std::invalid_argument);
  CHECK_THROWS_AS(Term(1).bignum_negative(), std::invalid_argument);  // an int64 is no bignum
  CHECK_THROWS_AS(Term(1).bignum_magnitude(), std::invalid_argument);
  CHECK_THROWS_AS(atom.node_slot(), std::invalid_argument);
  CHECK_THROWS_AS(atom.reference_ids(), std::invalid_argument);
  CHECK_THROWS_AS(atom.port_id(), std::invalid_argument);
  CHECK_THROWS_AS(atom.as_fun(), std::invalid_argument);
  CHECK_THROWS_AS(Term(1.0).as_integer(), std::invalid_argument);
}

TEST_CASE("map() keeps the last value of a repeated key and find() looks keys up exactly") {
  const Term m = Term::map({{Term::atom("a"), 1},
                            {Term(1), Term::atom("int")},
                            {Term::atom("a"), 2},
                            {Term(1.0), Term::atom("float")}});
  REQUIRE(m.map_entries().size() == 3);
  REQUIRE(m.find(Term::atom("a")));
  CHECK(*m.find(Term::atom("a")) == Term(2));
  CHECK(*m.find(Term(1)) == Term::atom("int"));
  CHECK(*m.find(Term(1.0)) == Term::atom("float"));
  CHECK(m.find(Term::atom("b")) == nullptr);
  CHECK(Term::map({}).find(Term(1)) == nullptr);
  CHECK(m.map_entries()[0].key == Term(1));  // in key order: numbers, then atoms
  CHECK(m.to_string() == "#{1 => int,1.0 => float,a => 2}");
}

TEST_CASE("list() splices a list tail: [1|[2,3]] is [1,2,3]") {
  CHECK(Term::list({1}, Term::list({2, 3})) == Term::list({1, 2, 3}));
  CHECK(Term::list({1}, Term::list({2, 3})).elements().size() == 3);
  CHECK(Term::list({1}, Term::list({2}, Term(3))) == Term::list({1, 2}, Term(3)));
  CHECK(Term::list({1}, Term::list({2}, Term(3))).tail() == Term(3));
  CHECK(Term::list({}, Term(5)) == Term(5));
  CHECK(Term::list({}) == Term::nil());
  CHECK(Term::list({1}, Term::nil()) == Term::list({1}));
}

TEST_CASE("bitstring() makes the unused bits of the last byte zero") {
  const Term b = Term::bitstring("\x01\xff", 3);
  CHECK(b.as_binary() == std::string_view("\x01\xe0", 2));
  CHECK(b == Term::bitstring("\x01\xe0", 3));
  CHECK(b.to_string() == "<<1,7:3>>");
  CHECK(Term::bitstring("\xff", 8) == Term::binary("\xff"));
}

TEST_CASE("string() decodes UTF-8, and a byte that is not UTF-8 stands for itself") {
  CHECK(Term::string("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80") == Term::list({97, 0xe9, 0x65e5, 0x1f600}));
  CHECK(Term::string("\xff") == Term::list({0xff}));
  CHECK(Term::string("\xc3") == Term::list({0xc3}));                                // cut short
  CHECK(Term::string("\xc3(") == Term::list({0xc3, '('}));                          // not a continuation
  CHECK(Term::string("\xc0\xaf") == Term::list({0xc0, 0xaf}));                      // overlong
  CHECK(Term::string("\xed\xa0\x80") == Term::list({0xed, 0xa0, 0x80}));            // a surrogate
  CHECK(Term::string("\xf4\x90\x80\x80") == Term::list({0xf4, 0x90, 0x80, 0x80}));  // past U+10FFFF
  CHECK(Term::string("").is_nil());
}

TEST_CASE("integer() is a small integer exactly when the value fits in int64") {
  const std::uint8_t two63[] = {0, 0, 0, 0, 0, 0, 0, 0x80};
  const std::uint8_t two63_plus_1[] = {1, 0, 0, 0, 0, 0, 0, 0x80};
  const std::uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  const std::uint8_t high_zeros[] = {5, 0, 0};
  CHECK(Term::integer(true, two63) == Term(std::numeric_limits<std::int64_t>::min()));  // INT64_MIN
  CHECK(Term::integer(false, max) == Term(std::numeric_limits<std::int64_t>::max()));
  CHECK(Term::integer(true, max) == Term(-std::numeric_limits<std::int64_t>::max()));
  const Term past_max = Term::integer(false, two63);  // INT64_MAX + 1
  CHECK(past_max.kind() == Term::Kind::bignum);
  CHECK(past_max.to_string() == "9223372036854775808");
  const Term past_min = Term::integer(true, two63_plus_1);  // -(INT64_MAX + 2)
  CHECK(past_min.kind() == Term::Kind::bignum);
  CHECK(past_min.to_string() == "-9223372036854775809");
  CHECK(Term::integer(false, high_zeros) == Term(5));
  CHECK(Term::integer(true, {}) == Term(0));
  const std::uint8_t big_high_zeros[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
  CHECK(Term::integer(false, big_high_zeros).bignum_magnitude().size() == 9);
}

TEST_CASE("copies share one block, and copies made and dropped by 4 threads at once leave it intact") {
  const Term original =
      *myrmex::vm::parse_term("{[1,2,3],<<\"bytes\">>,#{k => \"v\"},123456789012345678901234567890}");
  const std::string printed = original.to_string();
  Term copy = original;
  CHECK(copy.elements().data() == original.elements().data());
  CHECK(copy.elements()[1].as_binary().data() == original.elements()[1].as_binary().data());
  Term moved = std::move(copy);
  CHECK(moved.elements().data() == original.elements().data());
  std::vector<std::thread> threads;
  std::atomic<int> intact{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      bool ok = true;
      for (int i = 0; i < myrmex::test::scaled(20000); ++i) {
        std::vector<Term> copies(3, original);
        Term inner = copies[i % 3].elements()[i % 4];
        copies[1] = inner;
        copies.erase(copies.begin());
        ok = ok && copies[1] == original && inner == original.elements()[i % 4];
      }
      intact += ok;
    });
  for (auto& th : threads) th.join();
  CHECK(intact.load() == 4);
  CHECK(original.to_string() == printed);
}

TEST_CASE("a 100,000-element list and a 512-deep tuple are built, printed and destroyed in a process") {
  myrmex::Node node(myrmex::test::deep_term_config());
  std::size_t long_printed = 0;
  std::string deep_printed;
  node.run([&] {
    std::vector<Term> items;
    for (int i = 0; i < 100000; ++i) items.push_back(Term::atom("x"));
    Term long_list = Term::list(std::move(items));
    long_printed = long_list.to_string().size();
    Term deep = Term::nil();
    for (std::size_t i = 0; i < myrmex::vm::kMaxParseDepth; ++i) deep = Term::tuple({deep});
    deep_printed = deep.to_string();
    Term read = *myrmex::vm::parse_term(deep_printed);
    deep_printed = read == deep ? deep_printed : "read back differently";
  });
  CHECK(long_printed == 2 * 100000 + 1);
  CHECK(deep_printed == std::string(512, '{') + "[]" + std::string(512, '}'));
}
