#include "bench/bench.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace myrmex::bench {

Args::Args(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    auto eq = word.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "myrmex-bench: expected key=value, got '%s'\n", argv[i]);
      std::exit(2);
    }
    values_[word.substr(0, eq)] = word.substr(eq + 1);
  }
}

long Args::get(const std::string& key, long fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : std::atol(it->second.c_str());
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

Params& Params::add(const std::string& key, long value) {
  body_ += (body_.empty() ? "\"" : ",\"") + key + "\":" + std::to_string(value);
  return *this;
}

Params& Params::add(const std::string& key, const std::string& value) {
  body_ += (body_.empty() ? "\"" : ",\"") + key + "\":\"" + value + "\"";
  return *this;
}

double median(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const std::size_t mid = samples.size() / 2;
  return samples.size() % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
}

void print(const Figure& f, const Extra& extra) {
  std::vector<double> s = f.samples;
  std::sort(s.begin(), s.end());
  std::printf(
      "{\"impl\":\"%s\",\"item\":\"%s\",\"params\":%s,\"median\":%.6g,\"min\":%.6g,\"max\":%.6g,\"n\":%zu,"
      "\"unit\":\"%s\"",
      f.impl.c_str(), f.item.c_str(), f.params.json().c_str(), median(s), s.empty() ? 0 : s.front(),
      s.empty() ? 0 : s.back(), s.size(), f.unit.c_str());
  for (const auto& [key, value] : extra) std::printf(",\"%s\":%.6g", key.c_str(), value);
  std::printf("}\n");
  std::fflush(stdout);
}

std::vector<double> repeat(long reps, const std::function<double()>& once) {
  once();
  std::vector<double> out;
  for (long i = 0; i < reps; ++i) out.push_back(once());
  return out;
}

std::int64_t rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

double cpu_seconds() {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start past the last ')'.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) {
      stime = std::atol(field.c_str());
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace myrmex::bench
