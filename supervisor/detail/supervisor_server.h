// The supervisor process: a gen_server that traps exits, keeps its children in start order and restarts
// them as its strategy says (OTP's supervisor.erl, in C++).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/supervisor.h"

namespace myrmex::supervisor::detail {

using PidResult = Expected<Pid, SupervisorError>;
using VoidResult = Expected<void, SupervisorError>;

// The requests behind the client functions of supervisor.h.
struct StartChild {
  using reply_type = PidResult;
  ChildSpec spec;
};
struct StartFromTemplate {
  using reply_type = PidResult;
  std::optional<StartFunction> start;
};
struct TerminateChild {
  using reply_type = VoidResult;
  std::string id;
  Pid pid;  // by PID (simple_one_for_one) when set
};
struct RestartChild {
  using reply_type = PidResult;
  std::string id;
};
struct DeleteChild {
  using reply_type = VoidResult;
  std::string id;
};
struct WhichChildren {
  using reply_type = Expected<std::vector<ChildInfo>, SupervisorError>;
};
struct CountChildren {
  using reply_type = Expected<ChildCounts, SupervisorError>;
};
// RetryRestart is sent to itself when a restart's start failed: it tries again (counting as a restart).
struct RetryRestart {
  std::uint64_t child;  // Child::key
};

class SupervisorServer {
 public:
  using calls = gen_server::Messages<StartChild, StartFromTemplate, TerminateChild, RestartChild, DeleteChild,
                                     WhichChildren, CountChildren>;

  explicit SupervisorServer(Spec spec);

  gen_server::InitResult init();
  PidResult handle_call(StartChild& r);
  PidResult handle_call(StartFromTemplate& r);
  VoidResult handle_call(TerminateChild& r);
  PidResult handle_call(RestartChild& r);
  VoidResult handle_call(DeleteChild& r);
  WhichChildren::reply_type handle_call(WhichChildren& r);
  CountChildren::reply_type handle_call(CountChildren& r);
  void handle_info(mailbox::Message& m);
  void terminate(const Term& reason);

 private:
  struct Child {
    ChildSpec spec;
    Pid pid;
    bool restarting = false;
    std::uint64_t key = 0;  // stable across restarts (RetryRestart names it)
  };
  using Children = std::vector<Child>;

  bool dynamic() const { return flags_.strategy == Strategy::simple_one_for_one; }
  Children::iterator find(const std::string& id);
  Children::iterator find(Pid pid);
  Children::iterator find_key(std::uint64_t key);
  Child make_child(ChildSpec spec);

  // start() runs the child's start function; false (with `error`) when it failed.
  Expected<Pid, StartError> start(Child& c);
  // shut_down() stops a running child as its spec says and waits until it is gone.
  void shut_down(Child& c);
  // shut_down_range() stops the running children in [first, last), last first; temporaries go.
  void shut_down_from(std::size_t first, std::size_t last);
  void shut_down_all();

  void child_exited(Children::iterator c, const Term& reason);
  // restart() restarts `c` (and, by the strategy, its siblings); false when the intensity was exceeded
  // (the supervisor is stopping then).
  bool restart(std::uint64_t key);
  // add_restart() records one restart; false when it makes more than `intensity` within `period`.
  bool add_restart();
  // start_group() starts the children in [first, last) that have no process (after one_for_all or
  // rest_for_one stopped them); the first that fails is retried later.
  void start_group(std::size_t first, std::size_t last);

  Flags flags_;
  Children children_;
  std::optional<ChildSpec> template_;  // simple_one_for_one
  std::deque<std::chrono::steady_clock::time_point> restarts_;
  std::uint64_t next_key_ = 1;
};

}  // namespace myrmex::supervisor::detail
