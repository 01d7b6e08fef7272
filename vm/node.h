// Node: one Myrmex runtime instance: its schedulers, its process table, its processes.
//
//   myrmex::Node node;                       // one scheduler per core
//   myrmex::Term why = node.run([] {         // run a process, wait for it to end
//     myrmex::Pid p = myrmex::spawn([] { myrmex::receive([](int n) { std::printf("%d\n", n); }); });
//     myrmex::send(p, 42);
//   });
//   node.stop();                             // ends every process, joins the schedulers
//
// Node's functions may be called from any thread that is not running a process of this node, unless a
// comment says otherwise. All state hangs off the Node, so several nodes can share an OS process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "scheduler/scheduler.h"
#include "vm/process.h"

namespace myrmex::vm {

struct NodeConfig {
  scheduler::SchedulerConfig scheduler;
  // Print a line on stderr when a process ends with an exception (Erlang's error report).
  bool log_crashes = true;
  // Print a line on stderr for each long_schedule report.
  bool log_long_schedules = true;
};

class Node {
 public:
  // Node() starts the schedulers.
  explicit Node(NodeConfig config = {});
  // ~Node() calls stop().
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // stop() sends `kill` to every process, waits until all have exited, then stops the schedulers. A process
  // that never reaches a charge point keeps stop() waiting (the watchdog reports it). Idempotent.
  void stop();

  // spawn() starts a process running f(args...); see myrmex::spawn().
  template <class F, class... Args>
  Pid spawn(F&& f, Args&&... args) {
    return detail::spawn(impl_.get(), detail::make_body(std::forward<F>(f), std::forward<Args>(args)...),
                         nullptr, {});
  }
  template <class F, class... Args>
  Pid spawn_opt(const SpawnOptions& options, F&& f, Args&&... args) {
    return detail::spawn(impl_.get(), detail::make_body(std::forward<F>(f), std::forward<Args>(args)...),
                         nullptr, options);
  }
  Pid spawn_behaviour(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options = {});

  // send() delivers `message` to `to`; see myrmex::send(). With Overflow::block this thread sleeps until
  // there is room.
  template <class T>
  SendResult send(Pid to, T&& message) {
    static_assert(!std::is_same_v<std::remove_cvref_t<T>, Message>,
                  "forward a received Message as it is with send(pid, std::move(message))");
    return detail::send_outside(impl_.get(), to, mailbox::box(std::forward<T>(message)));
  }

  // send(to, Message&&) forwards a message as it is; see myrmex::send(Pid, Message&&).
  SendResult send(Pid to, Message&& message);

  // exit() sends an exit signal from outside any process (Erlang's exit/2 from a port).
  void exit(Pid target, Term reason);

  // run() spawns f(args...) and blocks the calling thread until that process exits; returns its reason.
  template <class F, class... Args>
  Term run(F&& f, Args&&... args) {
    return run_body(detail::make_body(std::forward<F>(f), std::forward<Args>(args)...));
  }

  std::optional<ProcessInfo> process_info(Pid pid) const;
  bool alive(Pid pid) const;
  // process_count() is the number of live processes.
  std::size_t process_count() const;
  std::vector<scheduler::SchedulerStats> scheduler_stats() const;
  // long_schedules() counts watchdog reports (processes that ran too long without a charge point).
  std::uint64_t long_schedules() const;
  unsigned schedulers() const;

 private:
  Term run_body(std::unique_ptr<detail::Body> body);

  std::unique_ptr<detail::NodeImpl> impl_;
};

}  // namespace myrmex::vm
