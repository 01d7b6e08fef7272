// Process: the process control block (PCB): a scheduler task plus mailbox, identity and exit state.
//
// Internal to myrmex. Fields without a note are written only by the process itself (on its fiber) or by
// its scheduler while it is switched off.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "mailbox/detail/mailbox.h"
#include "scheduler/detail/scheduler.h"
#include "vm/detail/extension.h"
#include "vm/detail/relations.h"
#include "vm/detail/signal_lock.h"
#include "vm/process.h"
#include "vm/term.h"

namespace myrmex::vm::detail {

class NodeImpl;
struct CodeSwap;

// ExitSignal travels in the system queue and ends the process: its sender already applied the exit-signal
// table (vm/links.h) to the receiver as it was then, under its signal lock. `untrappable`: exit(pid, kill),
// which ends it without terminate().
struct ExitSignal {
  Term reason;
  bool untrappable = false;
};

class Process final : public scheduler::detail::Task {
 public:
  Process(NodeImpl& node, Pid pid, std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour);

  scheduler::detail::FiberEnd run_fiber() noexcept override;
  void fiber_ended(scheduler::detail::FiberEnd how) noexcept override;
  void describe(char* out, std::size_t size) const noexcept override;
  void terminating() noexcept override;

  // ---- On its own fiber ----
  // charge() spends reductions: handles pending system signals (may throw ExitUnwind) and yields when
  // the slice is spent.
  void charge(int reductions) {
    bool spent = scheduler->charge(reductions);
    if (mailbox.has_system() || pending_exit_) [[unlikely]]
      handle_signals();
    if (spent) [[unlikely]]
      scheduler::detail::Scheduler::switch_out(*this, scheduler::detail::SwitchReason::yield);
  }
  // park() suspends until notified (a signal, a timer, room in a mailbox) or, `wake_on_message`, until a
  // message comes. It may return at once: whatever came since the process last looked makes the park fail
  // (scheduler/detail/wake_word.h), and the caller looks again.
  // A park and the resume after it are charged as the work they are (a context switch and the wake
  // protocol, ~kParkCost small function calls). Without this, a pair of processes
  // handing a slice back and forth through runnext would hold the scheduler for far longer than a
  // process whose reductions are plain computation (DESIGN.md: W6).
  static constexpr int kParkCost = 8;
  // An ending process charges this per kTearDownBatch links and monitors it fires.
  static constexpr int kTearDownPace = 64;
  void park(bool wake_on_message) {
    scheduler->charge(kParkCost);
    scheduler::detail::Scheduler::park(*this, wake_on_message);
  }
  mailbox::Envelope* receive(const Matcher& matcher, int& which, std::int64_t timeout_ms,
                             std::uint64_t marker);
  void sleep(std::int64_t ms);
  // took_message() wakes senders blocked on this (bounded) mailbox.
  void took_message() {
    if (mailbox.has_blocked_senders()) [[unlikely]]
      wake_senders(mailbox.take_blocked_senders());
  }

  NodeImpl& node;
  const Pid pid;
  mailbox::detail::Mailbox mailbox;
  // Its fiber is done and it never runs again (set by fiber_ended(); any thread reads it).
  std::atomic<bool> done{false};
  // Called once with the exit reason after the process is gone (Node::run()). Set before publishing;
  // rare, so kept out of line.
  std::unique_ptr<std::function<void(const Term&)>> on_exit;

  // ---- Guarded by signal_lock (see vm/detail/relations.h) ----
  SignalLock signal_lock;
  bool trap_exit = false;  // written by the process itself
  // The process is ending: no new link or monitor, and a send gets noproc. Written under signal_lock;
  // atomic because send() reads it without the lock (once alive() said false, send() must agree).
  std::atomic<bool> closed = false;
  // The process is ending: no new attachment. Set before `closed` and before anything shows it dead.
  bool attachment_closed = false;
  // Made on the first link, monitor or call, under signal_lock; the process itself may read the pointer
  // without it (it only ever goes from null to set).
  std::atomic<Relations*> relations{nullptr};
  ProcessAttachment* attachment = nullptr;
  // code_version() is the version of a behaviour kind it runs (vm/detail/code_server.h), null for none;
  // kept in its Relations, so that processes that run no kind pay nothing for it. Any thread.
  CodeVersion* code_version() const {
    Relations* r = relations.load(std::memory_order_acquire);
    return r ? r->code.load(std::memory_order_acquire) : nullptr;
  }
  // relations_locked() is `relations`, made if need be (signal_lock held).
  Relations& relations_locked() {
    Relations* r = relations.load(std::memory_order_relaxed);
    if (!r) {
      r = new Relations;
      relations.store(r, std::memory_order_release);
    }
    return *r;
  }
  ~Process();

  // Control blocks come from the small-object pool (see memory/detail/object_pool.h).
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  // stop_after_handler() makes a behaviour-style process exit with `reason` once its current init() or
  // handle() returns (Behaviour::stop()).
  void stop_after_handler(Term reason);
  void mark_crash_reported() { crash_reported_ = true; }

 private:
  void handle_signals();
  // take_signals() is handle_signals() without the throw: the exit reason to end with, or nullptr.
  const Term* take_signals();
  // run_behaviour() returns true when the behaviour stops (it asked to, or an exit signal came between two
  // messages; exit_reason_ holds the reason), false when its mailbox ran dry.
  bool run_behaviour();
  // terminate_behaviour() runs Behaviour::terminate() as the process ends (when it is owed one).
  void terminate_behaviour() noexcept;
  void wake_senders(const std::vector<std::uint64_t>& ids);
  // Hot code swap (vm/detail/code_change.cpp): a CodeSwap signal is taken by handle_signals() wherever the
  // process is, and applied between two messages by run_behaviour().
  void take_code_swap(Message signal);
  bool has_pending_swaps() const {
    Relations* r = relations.load(std::memory_order_relaxed);
    return r && !r->pending_swaps.empty();
  }
  void apply_code_swaps();
  void apply_code_swap(CodeSwap& swap);

  std::unique_ptr<Body> body_;
  std::unique_ptr<Behaviour> behaviour_;
  bool initialized_ = false;
  bool init_done_ = false;       // init() returned without stop(): terminate() is owed
  bool killed_ = false;          // ended by `kill`: no terminate()
  bool crash_reported_ = false;  // Behaviour::crash_reported(): no crash line from the node
  bool exiting_ = false;         // past terminate(): destructors run, exit signals no longer take effect
  bool stopping_ = false;        // Behaviour::stop() was called; exit_reason_ holds the reason
  bool torn_down_ = false;       // its links and monitors have fired (vm/detail/relations.h)
  // The ExitSignal that user code swallowed: rethrown at each charge point. Kept as the signal itself, so
  // that taking an exit allocates nothing (at 10M processes, Node::stop() paid a malloc per process).
  Message pending_exit_;
  const Term* pending_exit() { return &pending_exit_.get<ExitSignal>()->reason; }  // pending_exit_ is set
  Term exit_reason_;
};

// forwarded() takes the envelope out of a Message being forwarded by `api`, aborting with a message if it
// is empty (forwarded or moved from already: a programming error).
mailbox::Envelope* forwarded(Message& message, const char* api);

// current_exception_reason() is the exit reason for the exception being handled (inside a catch).
Term current_exception_reason();

// current_process() is the process running on the calling thread, or null.
Process* current_process();
// self_process() is current_process(), aborting with a message naming `api` when there is none.
Process& self_process(const char* api);

}  // namespace myrmex::vm::detail
