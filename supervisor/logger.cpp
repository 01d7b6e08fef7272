#include "supervisor/logger.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace myrmex::logger {

namespace {

// SinkAdapter hands spdlog's lines to a Sink set by the program.
class SinkAdapter final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit SinkAdapter(Sink sink) : sink_(std::move(sink)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    sink_(from_spdlog(msg.level), std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  static Level from_spdlog(spdlog::level::level_enum l) {
    switch (l) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        return Level::debug;
      case spdlog::level::info:
        return Level::info;
      case spdlog::level::warn:
        return Level::warning;
      default:
        return Level::error;
    }
  }
  Sink sink_;
};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warning:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
    case Level::none:
      break;
  }
  return spdlog::level::off;
}

std::atomic<Level> current_level{Level::info};

struct State {
  std::mutex mutex;
  std::shared_ptr<spdlog::logger> logger = make(nullptr);

  static std::shared_ptr<spdlog::logger> make(Sink sink) {
    spdlog::sink_ptr s;
    if (sink) {
      s = std::make_shared<SinkAdapter>(std::move(sink));
    } else {
      s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
    auto l = std::make_shared<spdlog::logger>("myrmex", std::move(s));
    // The line is ours: level and event first, no timestamp pattern to parse around. stderr gets a time.
    l->set_pattern(sink ? "%v" : "%H:%M:%S.%e %v");
    l->set_level(spdlog::level::trace);
    return l;
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

void set_level(Level l) {
  current_level.store(l, std::memory_order_relaxed);
}

Level level() {
  return current_level.load(std::memory_order_relaxed);
}

bool enabled(Level l) {
  return l != Level::none && l >= level();
}

void set_sink(Sink sink) {
  auto l = State::make(std::move(sink));
  std::lock_guard g(state().mutex);
  state().logger = std::move(l);
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
    case Level::none:
      break;
  }
  return "none";
}

void report(Level l, std::string_view event, vm::Pid pid, std::string_view name,
            std::initializer_list<Field> fields) {
  if (!enabled(l)) return;
  std::string line;
  line.reserve(128);
  line.append(level_name(l)).append(" ").append(event);
  line.append(" pid=").append(pid.to_string());
  line.append(" name=").append(name.empty() ? std::string_view("-") : name);
  for (const auto& [key, value] : fields) line.append(" ").append(key).append("=").append(value);
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard g(state().mutex);
    logger = state().logger;
  }
  logger->log(to_spdlog(l), "{}", line);
}

}  // namespace myrmex::logger
