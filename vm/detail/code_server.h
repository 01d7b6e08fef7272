// The code server of one node: its kinds, their versions, and the signal that swaps a process.
//
// Internal to myrmex. A CodeVersion lives as long as its node (processes point at it); once purged it is
// `retired`: nothing may start on it or swap to it, and its library reference is dropped. How many
// processes run a version is counted by the processes themselves: a process takes a hold as it is created
// on a version or swaps onto it, and drops it after its behaviour is destroyed and its fiber has ended.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vm/code.h"
#include "vm/pid.h"

namespace myrmex::vm::detail {

class CodeLibrary;
class NodeImpl;
class Process;

struct CodeVersion {
  code::VersionSpec spec;
  CodeLibrary* library = nullptr;  // null: from the program
  std::atomic<std::size_t> processes{0};
  std::atomic<bool> retired{false};

  // hold() counts one more process on this version; false (nothing counted) once it is retired.
  bool hold() noexcept;
  void drop() noexcept;
};

// CodeHold is one process's claim on a version, from before its behaviour is made until the process
// takes it over (Process::code).
class CodeHold {
 public:
  CodeHold() = default;
  explicit CodeHold(CodeVersion* v) : v_(v) {}
  CodeHold(CodeHold&& o) noexcept : v_(std::exchange(o.v_, nullptr)) {}
  CodeHold& operator=(CodeHold&&) = delete;
  ~CodeHold() {
    if (v_) v_->drop();
  }
  CodeVersion* release() { return std::exchange(v_, nullptr); }
  CodeVersion* get() const { return v_; }

 private:
  CodeVersion* v_ = nullptr;
};

// SwapBatch collects the answers to one swap or swap_all; the last signal to go answers the caller with a
// Reply<code::SwapAllResult> to its alias.
struct SwapBatch {
  SwapBatch(NodeImpl& n, Pid c, std::uint64_t r) : node(n), caller(c), ref(r) {}
  ~SwapBatch();
  void failed(Pid pid, code::CodeError error);

  NodeImpl& node;
  Pid caller;
  std::uint64_t ref;  // the caller's alias: an answer after it gave up is dropped
  std::atomic<std::size_t> swapped{0};
  std::atomic<std::size_t> ended{0};
  std::mutex failures_mutex;
  std::vector<std::pair<Pid, code::CodeError>> failures;
};

// CodeSwap travels in the system queue: move to `to`. Destroyed unanswered (its process ended first), it
// counts as ended.
struct CodeSwap {
  CodeVersion* to;
  std::shared_ptr<SwapBatch> batch;
  bool answered = false;
  CodeSwap(CodeVersion* t, std::shared_ptr<SwapBatch> b) : to(t), batch(std::move(b)) {}
  CodeSwap(CodeSwap&& o) noexcept
      : to(o.to), batch(std::move(o.batch)), answered(std::exchange(o.answered, true)) {}
  ~CodeSwap() {
    if (batch && !answered) batch->ended.fetch_add(1, std::memory_order_relaxed);
  }
};

class CodeServer {
 public:
  CodeServer() = default;
  CodeServer(const CodeServer&) = delete;
  CodeServer& operator=(const CodeServer&) = delete;
  // ~CodeServer() drops the node's library references (every process has ended by then).
  ~CodeServer();

  // add() makes `spec` the current version of its kind. A third version takes the oldest out first
  // (into `to_purge`: the caller retires it and kills its processes).
  Expected<void, code::CodeError> add(code::VersionSpec spec, CodeLibrary* library,
                                      std::vector<CodeVersion*>& to_purge);
  // find() is a version of a kind (0: the current one), null when not loaded or retired.
  CodeVersion* find(const std::string& kind, code::Version version);
  // instantiate() holds the current version of `kind` and makes a behaviour on it.
  Expected<std::pair<std::unique_ptr<Behaviour>, CodeHold>, code::CodeError> instantiate(
      const std::string& kind, const Term& args);
  // take_old() takes the kind's old version out of the table (it is retired: nothing new comes onto it),
  // or null; `if_unused` leaves it when processes still run it (then `in_use` counts them).
  CodeVersion* take_old(const std::string& kind, bool if_unused, std::size_t& in_use, bool& known);
  // retire() drops the node's library reference of a taken version (each process on it holds its own).
  void retire(CodeVersion* v);
  std::vector<code::KindInfo> kinds();

 private:
  struct Kind {
    CodeVersion* current = nullptr;
    CodeVersion* old = nullptr;
  };
  std::mutex mutex_;
  std::map<std::string, Kind, std::less<>> kinds_;
  std::vector<std::unique_ptr<CodeVersion>> versions_;  // every version ever added, retired ones too
};

// spawn_versioned() spawns a behaviour made from a version (CodeServer::instantiate()); the process takes
// over the hold. With `monitor`, the caller monitors it from before it can run. Process only; charges.
std::pair<Pid, MonitorRef> spawn_versioned(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options,
                                           CodeHold hold, bool monitor);

// for_each_on() calls f(Process&) for every live process of the node whose version `match(v)` accepts,
// charging the caller as it goes (a node may hold millions). Process only.
void for_each_on(Process& self, const std::function<bool(CodeVersion*)>& match,
                 const std::function<void(Process&)>& f);

// kill_version() kills every process on `v` and waits until none is left. Process only; parks.
std::size_t kill_version(Process& self, CodeVersion& v);

}  // namespace myrmex::vm::detail
