// bench-report: merges the figures bench/run collected and prints them beside Erlang's, the bare limits and
// the targets of issue 4.
//
//   bench-report [results.jsonl ...]        (no file: reads stdin)
//
// Input: one figure per line, exactly as myrmex-bench, myrmex_bench.erl and myrmex-bench-go (bench/go,
// W2–W4) print it (../shared/BENCH.md), keys in this order, no spaces, impl "myrmex", "erlang", "go" or
// "limit":
//   {"impl":..,"item":"W3.pingpong","params":{"schedulers":2},"median":..,"min":..,"max":..,"n":3,"unit":..}
// optionally followed by more "key":number fields before the closing brace (W8's first100_median and
// last1000_median, terms' mib_per_s); merged lines take the median of each.
// Lines that do not start with {"impl" (log lines, blanks) are ignored; a line that does but does not parse
// stops the report with its file, line number and what was expected (exit 1).
//
// Output (stdout):
//   1. The merged figures, one JSON line each, same format, in order of first appearance. Lines with the
//      same impl, item and params text are merged: median = median of their medians, min = least min,
//      max = greatest max, n = sum of their n. W1 and idle print one line with n = 1 per OS process, so
//      this is exactly the median/min/max over those processes; when lines with n > 1 are merged, the
//      median is a median of medians.
//   2. A blank line, then a Markdown table with one row per (item, params) that has a Myrmex figure: ours,
//      Erlang's, the ratio (> 1 always means Myrmex is better), Go's and its ratio likewise (blank when Go
//      has no figure: it runs W2–W4 only), the limit beside it, the target and whether it is met ("—" when
//      a figure the check needs is missing).
//   3. W10's table, if there are Savina programs (items savina_*, also in the table above): each program's
//      ms beside Erlang's, the ratio, the bare cross-CPU hand-off taken just before each side ran (items
//      limit.handoff_rtt with label "<program>.myrmex" and "<program>.erlang": the host's mode, see
//      bench/scheduler/futex_wake.cpp), and the geometric mean of the ratios.
//   4. A table of the bare limits, a line for the stack-strategy figures (mem.*) and one each for Erlang and
//      Go figures without a Myrmex one, if there are any.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// ---- figures

struct Figure {
  std::string impl;
  std::string item;
  std::string params;                                     // the JSON object's text, e.g. {"n":100,"m":10}
  std::vector<std::pair<std::string, std::string>> keys;  // the same, parsed: key → value's JSON text
  double median = 0, min = 0, max = 0;
  long n = 0;
  std::string unit;
  std::vector<std::pair<std::string, double>> extra;  // the "key":number fields after unit
};

std::string to_json(const Figure& f) {
  char numbers[128];
  std::snprintf(numbers, sizeof numbers, "\"median\":%.6g,\"min\":%.6g,\"max\":%.6g,\"n\":%ld", f.median,
                f.min, f.max, f.n);
  std::string extra;
  for (const auto& [key, value] : f.extra) {
    char field[128];
    std::snprintf(field, sizeof field, ",\"%s\":%.6g", key.c_str(), value);
    extra += field;
  }
  return "{\"impl\":\"" + f.impl + "\",\"item\":\"" + f.item + "\",\"params\":" + f.params + "," + numbers +
         ",\"unit\":\"" + f.unit + "\"" + extra + "}";
}

// ---- parsing

// LineParser reads one figure line, strictly in the fixed format; it throws std::runtime_error saying what it
// expected where.
class LineParser {
 public:
  explicit LineParser(const std::string& line) : s_(line) {}

  Figure figure() {
    Figure f;
    expect("{\"impl\":");
    f.impl = string();
    expect(",\"item\":");
    f.item = string();
    expect(",\"params\":");
    std::size_t start = pos_;
    f.keys = object();
    f.params = s_.substr(start, pos_ - start);
    expect(",\"median\":");
    f.median = number();
    expect(",\"min\":");
    f.min = number();
    expect(",\"max\":");
    f.max = number();
    expect(",\"n\":");
    f.n = count();
    expect(",\"unit\":");
    f.unit = string();
    while (pos_ < s_.size() && s_[pos_] == ',') {
      ++pos_;
      std::string key = string();
      expect(":");
      f.extra.emplace_back(key, number());
    }
    expect("}");
    if (pos_ != s_.size()) fail("end of line");
    return f;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("expected " + what + " at column " + std::to_string(pos_ + 1));
  }

  void expect(const std::string& literal) {
    if (s_.compare(pos_, literal.size(), literal) != 0) fail(literal);
    pos_ += literal.size();
  }

  // A string without escapes (none of ours needs one).
  std::string string() {
    expect("\"");
    std::size_t end = s_.find_first_of("\"\\", pos_);
    if (end == std::string::npos || s_[end] != '"') fail("a string without escapes");
    std::string text = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return text;
  }

  // A finite JSON number (so no nan or inf).
  double number() {
    std::size_t end = s_.find_first_not_of("+-.0123456789eE", pos_);
    if (end == std::string::npos) end = s_.size();
    std::string text = s_.substr(pos_, end - pos_);
    char* stop = nullptr;
    double value = std::strtod(text.c_str(), &stop);
    if (text.empty() || *stop != '\0' || !std::isfinite(value)) fail("a number");
    pos_ = end;
    return value;
  }

  long count() {
    std::size_t start = pos_;
    double value = number();
    if (value < 1 || value != std::floor(value)) {
      pos_ = start;
      fail("a positive integer for n");
    }
    return static_cast<long>(value);
  }

  // A flat object whose values are numbers or strings: {} or {"k":1,"s":"x"}. Values are kept as JSON text.
  std::vector<std::pair<std::string, std::string>> object() {
    std::vector<std::pair<std::string, std::string>> keys;
    expect("{");
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return keys;
    }
    for (;;) {
      std::string key = string();
      expect(":");
      std::size_t start = pos_;
      if (pos_ < s_.size() && s_[pos_] == '"')
        string();
      else
        number();
      keys.emplace_back(key, s_.substr(start, pos_ - start));
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect("}");
      return keys;
    }
  }

  const std::string& s_;
  std::size_t pos_ = 0;
};

// read_figures appends the figure lines of `in` to `out`; it throws naming `name` and the line on a bad one.
void read_figures(std::istream& in, const std::string& name, std::vector<Figure>& out) {
  std::string line;
  for (long number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("{\"impl\"", 0) != 0) continue;
    try {
      out.push_back(LineParser(line).figure());
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(name + ":" + std::to_string(number) + ": " + e.what() + "\n  " + line);
    }
  }
}

// ---- merging

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// merge folds lines with the same (impl, item, params) into one figure; see the header comment for how.
std::vector<Figure> merge(const std::vector<Figure>& lines) {
  std::vector<std::vector<const Figure*>> groups;
  std::map<std::string, std::size_t> index;  // impl \t item \t params → position in groups
  for (const Figure& f : lines) {
    auto [it, fresh] = index.try_emplace(f.impl + '\t' + f.item + '\t' + f.params, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&f);
  }
  std::vector<Figure> merged;
  for (const auto& group : groups) {
    Figure f = *group.front();
    std::vector<double> medians;
    f.n = 0;
    for (const Figure* part : group) {
      medians.push_back(part->median);
      f.min = std::min(f.min, part->min);
      f.max = std::max(f.max, part->max);
      f.n += part->n;
    }
    f.median = median_of(medians);
    for (auto& [key, value] : f.extra) {
      std::vector<double> values;
      for (const Figure* part : group)
        for (const auto& [k, v] : part->extra)
          if (k == key) values.push_back(v);
      value = median_of(values);
    }
    merged.push_back(f);
  }
  return merged;
}

// Results looks figures up by impl, item and params text.
class Results {
 public:
  explicit Results(std::vector<Figure> figures) : figures_(std::move(figures)) {}

  const std::vector<Figure>& all() const { return figures_; }

  const Figure* find(const std::string& impl, const std::string& item, const std::string& params) const {
    for (const Figure& f : figures_)
      if (f.impl == impl && f.item == item && f.params == params) return &f;
    return nullptr;
  }

  const Figure* erlang_of(const Figure& mine) const { return find("erlang", mine.item, mine.params); }
  const Figure* go_of(const Figure& mine) const { return find("go", mine.item, mine.params); }

  // sibling is our figure for the same item with one parameter changed, e.g. W5.call with "case":"empty".
  const Figure* sibling(const Figure& mine, const std::string& key, const std::string& value) const {
    std::string params = "{";
    for (const auto& [k, v] : mine.keys)
      params += (params.size() > 1 ? ",\"" : "\"") + k + "\":" + (k == key ? value : v);
    return find(mine.impl, mine.item, params + "}");
  }

  const Figure* limit(const std::string& item, const std::string& params) const {
    return find("limit", item, params);
  }

 private:
  std::vector<Figure> figures_;
};

// ---- formatting

std::string printf_string(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// with_commas rounds to an integer and groups its digits: 1234567 → "1,234,567".
std::string with_commas(double value) {
  std::string digits = printf_string("%.0f", std::fabs(value));
  std::string out = value < 0 && digits != "0" ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// per_second: the throughput units, counts per second (higher is better).
bool per_second(const std::string& unit) {
  return unit == "msg/s" || unit == "calls/s" || unit == "swaps/s";
}

// format_number: throughput with a k/M/G suffix (12.3M); other units with commas from 100 up, else 3 digits.
std::string format_number(double value, const std::string& unit) {
  double size = std::fabs(value);
  if (per_second(unit)) {
    if (size >= 1e9) return printf_string("%.1fG", value / 1e9);
    if (size >= 1e6) return printf_string("%.1fM", value / 1e6);
    if (size >= 1e3) return printf_string("%.1fk", value / 1e3);
  }
  if (size >= 100) return with_commas(value);
  return printf_string(size >= 10 ? "%.1f" : "%.2f", value);
}

std::string format_value(double value, const std::string& unit) {
  return format_number(value, unit) + " " + unit;
}

std::string format_ratio(double ratio) {
  if (std::isinf(ratio)) return "∞";
  return printf_string(ratio >= 10 ? "%.0f×" : ratio >= 1 ? "%.1f×" : "%.2f×", ratio);
}

// format_params renders {"n":1000000,"case":"empty"} as "n=1M case=empty".
std::string format_params(const Figure& f) {
  std::string text;
  for (const auto& [key, value] : f.keys) {
    std::string shown = value;
    if (value.front() == '"') {
      shown = value.substr(1, value.size() - 2);
    } else if (value.find_first_not_of("0123456789") == std::string::npos && value.size() >= 4) {
      long number = std::atol(value.c_str());
      if (number % 1000000 == 0)
        shown = std::to_string(number / 1000000) + "M";
      else if (number % 1000 == 0)
        shown = std::to_string(number / 1000) + "k";
    }
    text += (text.empty() ? "" : " ") + key + "=" + shown;
  }
  return text;
}

// ---- ratios

// Better says which way a figure improves. The spinner's CPU share beside W6's ping-pong has no better side
// (fair is about half; its target is a floor), so it gets no ratio.
enum class Better { lower, higher, neither };

Better better_of_unit(const std::string& unit) {
  return per_second(unit) || unit == "MiB/s" ? Better::higher : Better::lower;
}

Better better_of(const Figure& f) {
  if (f.item == "W6.spinner_share") return Better::neither;
  return better_of_unit(f.unit);
}

// extra_unit is the unit of an extra field: mib_per_s is MiB/s (terms), the others are in the figure's unit.
std::string extra_unit(const Figure& f, const std::string& key) {
  return key == "mib_per_s" ? "MiB/s" : f.unit;
}

// ratio_of is > 1 when Myrmex is better than `other` (Erlang's or Go's figure): other/Myrmex for times,
// sizes and CPU, Myrmex/other for msg/s, calls/s, swaps/s and MiB/s.
std::optional<double> ratio_of(const Figure& mine, const Figure* other) {
  if (!other || better_of(mine) == Better::neither) return std::nullopt;
  bool higher = better_of(mine) == Better::higher;
  double good = higher ? mine.median : other->median;
  double bad = higher ? other->median : mine.median;
  if (bad <= 0) return good > 0 ? std::optional<double>(INFINITY) : std::nullopt;
  return good / bad;
}

// Hops per unit of W2.ring (ns/hop) and W3.pingpong (ns/rt: a round trip is two hops). Issue 4 asks for
// "within 3× of a bare context switch per hop", so both are compared per hop.
double hops_per_unit(const Figure& f) {
  return f.item == "W3.pingpong" ? 2 : 1;
}

// switches_per_hop is our time per hop in bare Boost.Context switches.
std::optional<double> switches_per_hop(const Results& r, const Figure& mine) {
  const Figure* sw = r.limit("limit.context_switch", "{}");
  if (!sw || sw->median <= 0) return std::nullopt;
  return mine.median / hops_per_unit(mine) / sw->median;
}

// ---- targets

// Verdict: yes, no, or nullopt when a figure the check needs is missing.
using Verdict = std::optional<bool>;

Verdict both(Verdict a, Verdict b) {
  if (a == false || b == false) return false;
  if (!a || !b) return std::nullopt;
  return true;
}

Verdict ratio_at_least(const Results& r, const Figure& mine, double least) {
  std::optional<double> ratio = ratio_of(mine, r.erlang_of(mine));
  if (!ratio) return std::nullopt;
  return *ratio >= least;
}

// at_most_times: our figure is at most `times` × `other` (another of our figures, or nullptr when missing).
Verdict at_most_times(const Figure& mine, const Figure* other, double times) {
  if (!other) return std::nullopt;
  return mine.median <= times * other->median;
}

Verdict within_switches(const Results& r, const Figure& mine, double switches) {
  std::optional<double> per_hop = switches_per_hop(r, mine);
  if (!per_hop) return std::nullopt;
  return *per_hop <= switches;
}

// memcpy_of is the bare memcpy of the 1 MiB that the terms workload's binary_1m shape encodes and decodes.
const Figure* memcpy_of(const Results& r) {
  return r.limit("limit.memcpy", "{\"bytes\":1048576}");
}

Verdict within_memcpy(const Results& r, const Figure& mine) {
  return at_most_times(mine, memcpy_of(r), 1.2);
}

// w5_call_of is our W5 gen_server call (one caller, gen_server::call) on the same schedulers as `mine`: the
// latency a call during a swap is held to.
const Figure* w5_call_of(const Results& r, const Figure& mine) {
  for (const auto& [key, value] : mine.keys)
    if (key == "schedulers")
      return r.find("myrmex", "W5.call", "{\"case\":\"gen_server\",\"schedulers\":" + value + "}");
  return nullptr;
}

struct Target {
  const char* item;
  const char* when;  // text the params must contain ("" for any)
  const char* text;
  Verdict (*check)(const Results& r, const Figure& mine);
};

// The targets of issue 4 (W9's come from the exit-signals issue, swap's from the hot-swap one), first match
// wins. W1.exit, W2.setup,
// W5.call server_100k and W6.pingpong spin=0 are informative.
const Target kTargets[] = {
    {"W1.spawn", "\"n\":10000000,", "10M fit and run",
     [](const Results&, const Figure&) -> Verdict { return true; }},
    {"W1.spawn", "", "≤ 1/10 Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 10); }},
    {"W1.mem_rss", "", "≤ 1 KiB/proc",
     [](const Results&, const Figure& f) -> Verdict { return f.median <= 1024; }},
    {"W2.ring", "", "≤ 1/5 Erlang, ≤ 3× switch/hop",
     [](const Results& r, const Figure& f) {
       return both(ratio_at_least(r, f, 5), within_switches(r, f, 3));
     }},
    {"W3.pingpong", "", "≤ 1/5 Erlang, ≤ 3× switch/hop",
     [](const Results& r, const Figure& f) {
       return both(ratio_at_least(r, f, 5), within_switches(r, f, 3));
     }},
    {"W4.fanin", "", "≥ 5× Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 5); }},
    {"W5.call", "\"case\":\"empty\"", "≤ 1/5 Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 5); }},
    {"W5.call", "\"case\":\"caller_100k\"", "O(1): ≤ 1.5× empty; ≤ 1/5 Erlang",
     [](const Results& r, const Figure& f) {
       return both(at_most_times(f, r.sibling(f, "case", "\"empty\""), 1.5), ratio_at_least(r, f, 5));
     }},
    {"W6.pingpong", "\"spin\":1", "≤ 2× spin=0",
     [](const Results& r, const Figure& f) { return at_most_times(f, r.sibling(f, "spin", "0"), 2); }},
    {"W6.spinner_share", "", "≥ 33 %",
     [](const Results&, const Figure& f) -> Verdict { return f.median >= 33; }},
    {"W9.monitor_cycle", "", "≤ 1/5 Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 5); }},
    {"W9.link_fanout", "", "≤ 1/5 Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 5); }},
    {"idle.cpu", "", "≤ 1 %", [](const Results&, const Figure& f) -> Verdict { return f.median <= 1; }},
    {"terms.encode", "\"shape\":\"binary_1m\"", "≤ 1.2× memcpy", within_memcpy},
    {"terms.decode", "\"shape\":\"binary_1m\"", "≤ 1.2× memcpy", within_memcpy},
    {"swap.one", "", "≤ 1/10 Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 10); }},
    {"swap.call_latency", "\"swapping\":1", "≤ 2× W5.call gen_server",
     [](const Results& r, const Figure& f) { return at_most_times(f, w5_call_of(r, f), 2); }},
    {"terms.encode", "", "≥ 3× Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 3); }},
    {"terms.decode", "", "≥ 3× Erlang",
     [](const Results& r, const Figure& f) { return ratio_at_least(r, f, 3); }},
};

const Target* target_of(const Figure& f) {
  for (const Target& t : kTargets)
    if (f.item == t.item && f.params.find(t.when) != std::string::npos) return &t;
  return nullptr;
}

// ---- tables

// limit_cell: the bare mechanism beside a workload — a context switch for W2/W3, MPSC push+pop for W4, memcpy
// for the terms of a 1 MiB binary, our W5 gen_server call for a call during swaps.
std::string limit_cell(const Results& r, const Figure& mine) {
  if (mine.item == "W2.ring" || mine.item == "W3.pingpong") {
    const Figure* sw = r.limit("limit.context_switch", "{}");
    if (!sw) return "";
    std::optional<double> per_hop = switches_per_hop(r, mine);
    return format_value(sw->median, sw->unit) +
           (per_hop ? " (=" + format_ratio(*per_hop) + " switch/hop)" : std::string());
  }
  if (mine.item == "W4.fanin") {
    const Figure* mpsc = r.limit("limit.mpsc_push_pop", "{\"producers\":2}");
    if (!mpsc || mpsc->median <= 0) return "";
    return format_value(1e9 / mpsc->median, "msg/s") + " (MPSC, 2 producers)";
  }
  if (mine.item == "swap.call_latency") {
    const Figure* w5 = w5_call_of(r, mine);
    if (!w5 || w5->median <= 0) return "";
    return "W5 gen_server " + format_value(w5->median, w5->unit) +
           " (=" + format_ratio(mine.median / w5->median) + ")";
  }
  if (mine.item.rfind("terms.", 0) == 0 && mine.params.find("binary_1m") != std::string::npos) {
    const Figure* copy = memcpy_of(r);
    if (!copy || copy->median <= 0) return "";
    return format_value(copy->median, copy->unit) + " (=" + format_ratio(mine.median / copy->median) +
           " memcpy)";
  }
  return "";
}

void print_workloads(const Results& r) {
  std::printf(
      "| workload | params | Myrmex | Erlang | Erlang/Myrmex | Go | Go/Myrmex | limit | target | met |\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|---|---|---|\n");
  for (const Figure& mine : r.all()) {
    if (mine.impl != "myrmex" || mine.item.rfind("mem.", 0) == 0) continue;
    const Figure* erlang = r.erlang_of(mine);
    std::optional<double> ratio = ratio_of(mine, erlang);
    // Go runs W2–W4 only: its cells are blank elsewhere ("—" only for a missing ratio beside a figure).
    const Figure* go = r.go_of(mine);
    std::optional<double> go_ratio = ratio_of(mine, go);
    const Target* target = target_of(mine);
    std::string met;
    if (target) {
      Verdict verdict = target->check(r, mine);
      met = !verdict ? "—" : *verdict ? "yes" : "no";
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mine.item.c_str(),
                format_params(mine).c_str(), format_value(mine.median, mine.unit).c_str(),
                erlang ? format_value(erlang->median, erlang->unit).c_str() : "—",
                ratio ? format_ratio(*ratio).c_str() : "—",
                go ? format_value(go->median, go->unit).c_str() : "",
                go ? (go_ratio ? format_ratio(*go_ratio).c_str() : "—") : "", limit_cell(r, mine).c_str(),
                target ? target->text : "", met.c_str());
  }
  std::printf(
      "\nMedians. Ratio > 1 means Myrmex is better: Erlang/Myrmex for times, sizes and CPU,\n"
      "Myrmex/Erlang for msg/s, calls/s, swaps/s and MiB/s, none for the spinner's CPU share; Go/Myrmex\n"
      "likewise (Go: goroutines with a buffered channel each as mailbox, bench/go; W2–W4 only).\n");
  bool swaps = false;
  for (const Figure& f : r.all()) swaps = swaps || f.item.rfind("swap.", 0) == 0;
  if (swaps)
    std::printf(
        "swap.*: Erlang's swap is sys:suspend + sys:change_code + sys:resume, with the same module (no new\n"
        "version is loaded): it measures the sys protocol and code_change/3, not code loading. swap.all:\n"
        "Erlang goes through the servers one at a time, phase by phase, as release_handler does.\n");
}

// print_savina is W10's table: the Savina programs (bench/programs/), Myrmex beside Erlang, and the
// geometric mean of the ratios that both sides have.
void print_savina(const Results& r) {
  std::vector<double> ratios;
  bool header = false;
  for (const Figure& mine : r.all()) {
    if (mine.impl != "myrmex" || mine.item.rfind("savina_", 0) != 0) continue;
    if (!header) {
      std::printf(
          "\nW10: Savina programs\n\n| program | params | Myrmex | Erlang | Erlang/Myrmex | hand-off before "
          "Myrmex / Erlang |\n|---|---|--:|--:|--:|--:|\n");
      header = true;
    }
    const std::string program = mine.item.substr(7);
    const Figure* erlang = r.erlang_of(mine);
    std::optional<double> ratio = ratio_of(mine, erlang);
    if (ratio && std::isfinite(*ratio) && *ratio > 0) ratios.push_back(*ratio);
    auto handoff = [&](const char* side) {
      const Figure* f = r.find("limit", "limit.handoff_rtt", "{\"label\":\"" + program + "." + side + "\"}");
      return f ? format_value(f->median, f->unit) : std::string("—");
    };
    std::printf("| %s | %s | %s | %s | %s | %s / %s |\n", program.c_str(), format_params(mine).c_str(),
                format_value(mine.median, mine.unit).c_str(),
                erlang ? format_value(erlang->median, erlang->unit).c_str() : "—",
                ratio ? format_ratio(*ratio).c_str() : "—", handoff("myrmex").c_str(),
                handoff("erlang").c_str());
  }
  if (!header) return;
  double logs = 0;
  for (double ratio : ratios) logs += std::log(ratio);
  std::printf(
      "| geometric mean | | | | %s | |\n",
      ratios.empty() ? "—" : format_ratio(std::exp(logs / static_cast<double>(ratios.size()))).c_str());
}

void print_limits(const Results& r) {
  bool header = false;
  for (const Figure& f : r.all()) {
    if (f.impl != "limit" || f.item == "limit.handoff_rtt") continue;  // (in W10's table)
    if (!header) {
      std::printf("\n| limit | params | median | unit |\n|---|---|--:|---|\n");
      header = true;
    }
    std::printf("| %s | %s | %s | %s |\n", f.item.c_str(), format_params(f).c_str(),
                format_number(f.median, f.unit).c_str(), f.unit.c_str());
  }
}

void print_memory(const Results& r) {
  std::string line;
  for (const Figure& f : r.all())
    if (f.impl == "myrmex" && f.item.rfind("mem.", 0) == 0)
      line += (line.empty() ? "" : "; ") + f.item.substr(4) + " (" + format_params(f) +
              "): " + format_value(f.median, f.unit);
  if (!line.empty()) std::printf("\nMemory per blocked process by style (Myrmex): %s.\n", line.c_str());
}

// print_extra shows the extra fields of our figures beside Erlang's (W8: the first-100 and last-1,000
// medians, which say whether a restart gets slower as restarts pile up; terms: MiB/s of the encoding).
void print_extra(const Results& r) {
  bool header = false;
  for (const Figure& mine : r.all()) {
    if (mine.impl != "myrmex" || mine.extra.empty()) continue;
    if (!header) {
      std::printf(
          "\n| workload | params | field | Myrmex | Erlang | Erlang/Myrmex |\n|---|---|---|--:|--:|--:|\n");
      header = true;
    }
    const Figure* erlang = r.erlang_of(mine);
    for (const auto& [key, value] : mine.extra) {
      std::optional<double> theirs;
      if (erlang)
        for (const auto& [k, v] : erlang->extra)
          if (k == key) theirs = v;
      const std::string unit = extra_unit(mine, key);
      std::string ratio = "—";
      if (theirs && value > 0 && *theirs > 0 && better_of(mine) != Better::neither)
        ratio = format_ratio(better_of_unit(unit) == Better::lower ? *theirs / value : value / *theirs);
      std::printf("| %s | %s | %s | %s | %s | %s |\n", mine.item.c_str(), format_params(mine).c_str(),
                  key.c_str(), format_value(value, unit).c_str(),
                  theirs ? format_value(*theirs, unit).c_str() : "—", ratio.c_str());
    }
  }
}

// print_unpaired names Erlang and Go figures that have no Myrmex figure beside them (say, our side failed).
void print_unpaired(const Results& r) {
  for (const auto& [impl, name] : {std::pair{"erlang", "Erlang"}, std::pair{"go", "Go"}}) {
    std::string line;
    for (const Figure& f : r.all())
      if (f.impl == impl && !r.find("myrmex", f.item, f.params))
        line += (line.empty() ? "" : "; ") + f.item + " (" + format_params(f) +
                "): " + format_value(f.median, f.unit);
    if (!line.empty()) std::printf("\n%s only, no Myrmex figure beside it: %s.\n", name, line.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Figure> lines;
  try {
    if (argc < 2) read_figures(std::cin, "<stdin>", lines);
    for (int i = 1; i < argc; ++i) {
      std::ifstream file(argv[i]);
      if (!file) throw std::runtime_error(std::string(argv[i]) + ": cannot open");
      read_figures(file, argv[i], lines);
    }
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "bench-report: %s\n", e.what());
    return 1;
  }
  if (lines.empty()) {
    std::fprintf(stderr, "bench-report: no figure lines in the input\n");
    return 1;
  }
  Results results(merge(lines));
  for (const Figure& f : results.all()) std::printf("%s\n", to_json(f).c_str());
  std::printf("\n");
  print_workloads(results);
  print_savina(results);
  print_extra(results);
  print_limits(results);
  print_memory(results);
  print_unpaired(results);
  return 0;
}
