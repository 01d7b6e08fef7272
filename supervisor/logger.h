// The logger of crash and supervisor reports (OTP's logger, cut down to what reports need): levels, one
// line per event, written through spdlog to stderr, or to a sink a program (or a test) sets.
//
// A line reads `<level> <event> pid=<pid> name=<registered name, or -> <key>=<value>...`, where pid and
// name are the reporting process's (a supervisor reports on its children), for example
//   error server_terminated pid=<1.14.1> name=db type=Db reason={exception,<<"std::runtime_error">>,...}
//   error child_terminated pid=<1.12.1> name=root child=<1.14.1> id=db reason={exception,...}
//   info child_restarted pid=<1.12.1> name=root child=<1.15.1> id=db restarts=1
// Any thread.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "vm/pid.h"

namespace myrmex::logger {

enum class Level { debug, info, warning, error, none };

// set_level() drops every event below `level` (info by default).
void set_level(Level level);
Level level();
// enabled() tells whether an event at `level` would be written: check it before building costly fields.
bool enabled(Level level);

// Sink gets each line (no trailing newline). set_sink(nullptr) writes to stderr again.
using Sink = std::function<void(Level level, const std::string& line)>;
void set_sink(Sink sink);

// Field is one `key=value` of a line.
using Field = std::pair<std::string_view, std::string>;

// report() writes one line: the event, the process it is about (its PID and registered name, "" for
// none), then `fields` in order.
void report(Level level, std::string_view event, vm::Pid pid, std::string_view name,
            std::initializer_list<Field> fields = {});

std::string_view level_name(Level level);

}  // namespace myrmex::logger
