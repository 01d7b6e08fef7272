// The test runner: doctest's main, plus a leak check after every test case (STYLE.md §9). Every node a
// test case made is gone when it ends, so every envelope, control block, behaviour and stack it made must
// be gone too; a case that leaves one behind is reported by name and the run fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "memory/detail/live_counts.h"
#include "supervisor/logger.h"

namespace {

namespace md = myrmex::memory::detail;

std::vector<std::string> leaks;

struct LeakCheck : doctest::IReporter {
  explicit LeakCheck(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override { name_ = tc.m_name; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {
    for (unsigned k = 0; k < static_cast<unsigned>(md::Counted::kinds); ++k) {
      auto kind = static_cast<md::Counted>(k);
      // Relative to the last case: a leak is reported once, by the case that made it.
      std::int64_t now = md::live(kind);
      if (now != baseline_[k]) {
        leaks.push_back(name_ + ": " + std::to_string(now - baseline_[k]) + " " + md::counted_name(kind) +
                        "(s) left alive");
        baseline_[k] = now;
      }
    }
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  std::string name_;
  std::int64_t baseline_[static_cast<unsigned>(md::Counted::kinds)] = {};
};

REGISTER_LISTENER("leak_check", 1, LeakCheck);

}  // namespace

int main(int argc, char** argv) {
  // Crash and supervisor reports are the logger tests' to look at, not noise in every other test's output.
  myrmex::logger::set_level(myrmex::logger::Level::none);
  doctest::Context context(argc, argv);
  int status = context.run();
  for (const std::string& leak : leaks) std::fprintf(stderr, "LEAK: %s\n", leak.c_str());
  if (!leaks.empty() && status == 0) status = 1;
  return status;
}
