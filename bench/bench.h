// Shared by every benchmark: parameters from the command line, repetitions, and the one-line JSON figure
// that bench/run collects (the format is defined in ../shared/BENCH.md).
//
//   myrmex-bench w3 schedulers=1 reps=5
//
// Internal to the benchmarks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace myrmex::bench {

// Args are the key=value words after the workload name.
class Args {
 public:
  Args(int argc, char** argv);  // argv[0] is the first key=value word
  long get(const std::string& key, long fallback) const;
  std::string get(const std::string& key, const std::string& fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

// Params renders a figure's parameters as a JSON object, keys in the order given. Both implementations
// write the same keys in the same order, so bench/run can pair them by text.
class Params {
 public:
  Params& add(const std::string& key, long value);
  Params& add(const std::string& key, const std::string& value);
  std::string json() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

// Figure is one result line:
// {"impl":"myrmex","item":..,"params":..,"median":..,"min":..,"max":..,"n":..,"unit":..}.
struct Figure {
  std::string item;
  Params params;
  std::string unit;
  std::vector<double> samples;
  std::string impl = "myrmex";
};
// Extra is more "key":number fields that print() adds after unit, before the closing brace (W8's flatness
// medians); bench-report keeps them.
using Extra = std::vector<std::pair<std::string, double>>;
void print(const Figure& figure, const Extra& extra = {});

// median() is the middle sample (the mean of the two middle ones for an even count; 0 for none).
double median(std::vector<double> samples);

// repeat() runs `once` one untimed time (warm-up), then `reps` times, and returns what each timed run
// returned.
std::vector<double> repeat(long reps, const std::function<double()>& once);

// Stopwatch measures wall time from construction.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double ns() const {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// rss_bytes() is this OS process's resident set size (VmRSS in /proc/self/status).
std::int64_t rss_bytes();
// cpu_seconds() is the CPU time (user + system) this OS process has used, from /proc/self/stat.
double cpu_seconds();

// A workload reads its parameters from Args and prints its figures.
using Workload = void (*)(const Args& args);

}  // namespace myrmex::bench
