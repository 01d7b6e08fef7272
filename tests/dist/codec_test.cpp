// Codecs: C++ values to terms and back, a user struct in one line, and the error for a type without one.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dist/codec.h"
#include "dist/etf.h"
#include "dist/message_codec.h"
#include "mailbox/message.h"

using myrmex::from_term;
using myrmex::to_term;
using myrmex::vm::Pid;
using myrmex::vm::Term;

namespace {
struct Point {
  int x = 0;
  int y = 0;
  std::string label;
  bool operator==(const Point&) const = default;
};
struct Unregistered {
  int n = 0;
};
struct NoCodec {};

// through_the_wire() is `value` encoded to ETF bytes and decoded back into its C++ type.
template <class T>
T through_the_wire(const T& value) {
  auto term = myrmex::dist::decode(myrmex::dist::encode(to_term(value)));
  REQUIRE(term.has_value());
  auto back = from_term<T>(*term);
  REQUIRE_MESSAGE(back.has_value(), back.error().message);
  return *back;
}
}  // namespace

template <>
struct myrmex::codec<Point> : myrmex::record_codec<Point, "point", &Point::x, &Point::y, &Point::label> {};
template <>
struct myrmex::codec<Unregistered> : myrmex::record_codec<Unregistered, "unregistered", &Unregistered::n> {};

static_assert(myrmex::has_codec<std::vector<std::map<std::string, std::optional<std::tuple<int, double>>>>>);
static_assert(!myrmex::has_codec<NoCodec>);
static_assert(!myrmex::has_codec<std::vector<NoCodec>>);

TEST_CASE("the standard types become the terms an Erlang programmer expects, and come back") {
  CHECK(to_term(42) == Term(42));
  CHECK(to_term(true) == Term::atom("true"));
  CHECK(to_term(2.5) == Term(2.5));
  CHECK(to_term(std::string("hi")) == Term::binary("hi"));
  CHECK(to_term(std::vector<int>{1, 2}) == Term::list({1, 2}));
  CHECK(to_term(std::map<std::string, int>{{"a", 1}}) == Term::map({{Term::binary("a"), 1}}));
  CHECK(to_term(std::optional<int>()) == Term::atom("undefined"));
  CHECK(to_term(std::optional<int>(3)) == Term(3));
  CHECK(to_term(std::tuple<int, std::string>{1, "x"}) == Term::tuple({1, Term::binary("x")}));
  CHECK(to_term(std::pair<int, bool>{1, false}) == Term::tuple({1, Term::atom("false")}));
  CHECK(to_term(Pid::make(1, 2, 3)) == Term(Pid::make(1, 2, 3)));
  Term any = Term::tuple({Term::atom("any"), Term::nil()});
  CHECK(to_term(any) == any);

  CHECK(through_the_wire(std::numeric_limits<std::uint64_t>::max()) ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(through_the_wire(std::numeric_limits<std::int64_t>::min()) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(through_the_wire(std::uint8_t{200}) == 200);
  CHECK(through_the_wire(-1.25f) == -1.25f);
  CHECK(through_the_wire(std::string("héllo\0x", 8)) == std::string("héllo\0x", 8));
  std::map<std::string, std::vector<std::optional<int>>> nested{{"a", {1, std::nullopt, 3}}, {"b", {}}};
  CHECK(through_the_wire(nested) == nested);
  std::tuple<int, std::string, std::vector<bool>> t{7, "s", {true, false}};
  CHECK(through_the_wire(t) == t);
}

TEST_CASE("reading a term of the wrong shape is an error that says what was expected") {
  auto small = from_term<std::uint8_t>(Term(300));
  REQUIRE_FALSE(small.has_value());
  CHECK(small.error().message == "expected an integer in the range of 8-bit unsigned, got 300");
  CHECK_FALSE(from_term<int>(Term(-5000000000)).has_value());
  CHECK_FALSE(from_term<unsigned>(Term(-1)).has_value());
  CHECK_FALSE(from_term<bool>(Term::atom("yes")).has_value());
  CHECK_FALSE(from_term<std::vector<int>>(Term::list({1}, 2)).has_value());  // improper
  CHECK_FALSE(from_term<std::vector<int>>(Term::list({1, Term::atom("x")})).has_value());
  CHECK_FALSE(from_term<std::tuple<int, int>>(Term::tuple({1})).has_value());
  CHECK_FALSE(from_term<std::string>(Term(1)).has_value());
  // Erlang's other spelling of text, a list of code points, reads as UTF-8.
  CHECK(*from_term<std::string>(Term::string("héllo")) == "héllo");
  CHECK(*from_term<double>(Term(2)) == 2.0);
}

TEST_CASE("a user struct's codec is one line, and writes an Erlang record") {
  Point p{1, -2, "origin"};
  CHECK(to_term(p).to_string() == R"({point,1,-2,<<"origin">>})");
  CHECK(through_the_wire(p) == p);
  auto wrong_tag = from_term<Point>(Term::tuple({Term::atom("pont"), 1, 2, Term::binary("")}));
  REQUIRE_FALSE(wrong_tag.has_value());
  CHECK(wrong_tag.error().message.find("tagged point") != std::string::npos);
  auto bad_field = from_term<Point>(Term::tuple({Term::atom("point"), 1, Term::atom("y"), Term::binary("")}));
  REQUIRE_FALSE(bad_field.has_value());
  CHECK(bad_field.error().message == "point: expected an integer in the range of 32-bit signed, got y");
}

TEST_CASE("a message leaves the node through its registered codec, or gets an error naming its type") {
  myrmex::dist::register_codec<Point>();
  myrmex::dist::register_codec<Point>();  // twice is harmless
  myrmex::mailbox::Message point(myrmex::mailbox::box(Point{3, 4, "p"}));
  auto term = myrmex::dist::message_to_term(point);
  REQUIRE(term.has_value());
  CHECK(*term == to_term(Point{3, 4, "p"}));

  myrmex::mailbox::Message as_term(myrmex::mailbox::box(Term::atom("hello")));
  CHECK(*myrmex::dist::message_to_term(as_term) == Term::atom("hello"));

  // Unregistered has a codec but was never registered: the error says what to do.
  myrmex::mailbox::Message unregistered(myrmex::mailbox::box(Unregistered{1}));
  auto missing = myrmex::dist::message_to_term(unregistered);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("Unregistered") != std::string::npos);
  CHECK(missing.error().message.find("register_codec") != std::string::npos);
  myrmex::mailbox::Message plain(myrmex::mailbox::box(NoCodec{}));
  CHECK_FALSE(myrmex::dist::message_to_term(plain).has_value());
}
