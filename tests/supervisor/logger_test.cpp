// The logger (supervisor/logger.h): one line per event with the PID and name, levels, a sink to capture.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

#include "tests/test_node.h"

using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
namespace gs = myrmex::gen_server;
namespace logger = myrmex::logger;

namespace {

// Captured collects the lines while it lives; the test run's default (level none, stderr) comes back after.
struct Captured {
  explicit Captured(logger::Level level) {
    logger::set_level(level);
    logger::set_sink([this](logger::Level, const std::string& line) {
      std::lock_guard g(mutex);
      lines.push_back(line);
    });
  }
  ~Captured() {
    logger::set_sink(nullptr);
    logger::set_level(logger::Level::none);
  }
  std::vector<std::string> take() {
    std::lock_guard g(mutex);
    return lines;
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

struct Boom {
  using reply_type = int;
};
struct Fragile {
  using calls = gs::Messages<Boom>;
  int handle_call(Boom&) { throw std::runtime_error("kaput"); }
};

}  // namespace

TEST_CASE("logger: a server's crash is one error line with its PID, name and reason; levels filter") {
  myrmex::Node node(config(1));
  Captured captured(logger::Level::info);
  node.run([] {
    logger::report(logger::Level::debug, "too_low", myrmex::self(), "");
    logger::report(logger::Level::info, "hello", myrmex::self(), "", {{"k", "v"}});
    auto pid = gs::start(Fragile{}, {.name = "fragile"});
    REQUIRE(pid);
    (void)gs::call(*pid, Boom{});
    CHECK(myrmex::test::wait_until([&] { return !myrmex::alive(*pid); }));
    // A quiet end (stop with normal) reports nothing.
    auto quiet = gs::start(Fragile{});
    CHECK(gs::stop(*quiet).has_value());
    (void)myrmex::send(myrmex::self(), *pid);
  });
  auto lines = captured.take();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].rfind("info hello pid=<", 0) == 0);
  CHECK(lines[0].find(" name=- k=v") != std::string::npos);
  CHECK(lines[1].rfind("error server_terminated pid=<", 0) == 0);
  CHECK(lines[1].find(" name=fragile ") != std::string::npos);
  CHECK(lines[1].find("type=(anonymous namespace)::Fragile") != std::string::npos);
  CHECK(lines[1].find("reason={exception,<<\"std::runtime_error\">>,<<\"kaput\">>}") != std::string::npos);
}

TEST_CASE("logger: Level::none drops everything") {
  myrmex::Node node(config(1));
  Captured captured(logger::Level::none);
  node.run([] { logger::report(logger::Level::error, "dropped", myrmex::self(), ""); });
  CHECK(captured.take().empty());
}
