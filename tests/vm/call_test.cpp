// call/reply with typed requests (the request type names its reply), acknowledgement-only calls, and
// forwarding a received Message as it is.
#include <doctest/doctest.h>

#include <string>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Request;
using myrmex::test::config;

namespace {

struct GetTotal {
  using reply_type = long;
};
struct Add {
  using reply_type = void;  // an acknowledgement only
  long n;
};
struct Name {
  using reply_type = std::string;
};
struct Stop {};

// A counter server answering three request types; the last one tested must not cost more lookups.
void counter() {
  long total = 0;
  for (bool more = true; more;)
    myrmex::receive([&](Request<Add>& r) { total += r.value.n, myrmex::reply(r); },
                    [&](Request<GetTotal>& r) { myrmex::reply(r, total); },
                    [&](Request<Name>& r) { myrmex::reply(r, "counter"); },  // converts to std::string
                    [&](Stop) { more = false; });
}

}  // namespace

TEST_CASE("call() deduces the reply type from the request; a void reply is an acknowledgement") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid server = myrmex::spawn(counter);
    myrmex::Expected<void, myrmex::CallError> ack = myrmex::call(server, Add{5});
    CHECK(ack.has_value());
    CHECK(myrmex::call(server, Add{7}).has_value());
    myrmex::Expected<long, myrmex::CallError> total = myrmex::call(server, GetTotal{});
    REQUIRE(total.has_value());
    CHECK(*total == 12);
    auto name = myrmex::call(server, Name{});
    REQUIRE(name.has_value());
    CHECK(*name == "counter");
    myrmex::send(server, Stop{});
  });
}

TEST_CASE("an acknowledgement-only call reports noproc and timeout like any other") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid dead = myrmex::spawn([] {});
    while (myrmex::alive(dead)) myrmex::yield();
    auto r1 = myrmex::call(dead, Add{1});
    REQUIRE_FALSE(r1.has_value());
    CHECK(r1.error() == myrmex::CallError::noproc);
    Pid silent = myrmex::spawn([] { myrmex::sleep_for(1h); });
    auto r2 = myrmex::call(silent, Add{1}, 10ms);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error() == myrmex::CallError::timeout);
  });
}

TEST_CASE("a server can keep a request and reply later, from another process") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid server = myrmex::spawn([] {
      myrmex::receive([](Request<GetTotal>& r) {
        // Hand the request to a helper, which answers on the server's behalf.
        myrmex::spawn([r = std::move(r)] { myrmex::reply(r, 99L); });
      });
      // Stay up: the caller monitors the server, so a server that ended first would fail the call.
      myrmex::receive([](int) {});
    });
    auto answer = myrmex::call(server, GetTotal{});
    REQUIRE(answer.has_value());
    CHECK(*answer == 99);
    myrmex::send(server, 0);
  });
}

TEST_CASE("send(pid, Message&&) forwards the envelope as it is: the receiver sees the original type") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid me = myrmex::self();
    Pid proxy = myrmex::spawn([me] {
      for (int i = 0; i < 2; ++i)
        myrmex::receive([&](myrmex::Message& m) { myrmex::send(me, std::move(m)); });
    });
    myrmex::send(proxy, std::string("through"));
    myrmex::send(proxy, GetTotal{});
    CHECK(myrmex::receive([](std::string& s) { return s; }) == "through");
    bool typed = myrmex::receive([](GetTotal&) { return true; }, [](myrmex::Message&) { return false; });
    CHECK(typed);
  });
}

TEST_CASE("a message's type name prints demangled") {
  myrmex::Node node(config(1));
  node.run([] {
    myrmex::send(myrmex::self(), GetTotal{});
    myrmex::send(myrmex::self(), 3);
    myrmex::receive([](myrmex::Message& m) { CHECK(m.type_name() == "(anonymous namespace)::GetTotal"); });
    myrmex::receive([](myrmex::Message& m) { CHECK(m.type_name() == "int"); });
  });
}
