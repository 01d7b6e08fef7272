#include "vm/detail/process.h"

#include <cxxabi.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "memory/detail/live_counts.h"
#include "memory/detail/object_pool.h"
#include "scheduler/detail/yield_point.h"
#include "vm/detail/code_server.h"
#include "vm/detail/node_impl.h"

namespace myrmex::vm::detail {

namespace sd = scheduler::detail;
namespace md = memory::detail;

namespace {

Term exception_reason(const std::type_info* type, const char* what) {
  return Term::tuple({atoms::exception(),
                      Term::binary(type ? mailbox::detail::demangle(*type) : std::string("unknown")),
                      Term::binary(what)});
}

// leak_deliberately() abandons `p` and tells LeakSanitizer so, if it runs: a documented leak is no finding.
void leak_deliberately([[maybe_unused]] const void* p) {
#ifdef __SANITIZE_ADDRESS__
  if (p) __lsan_ignore_object(p);
#endif
}

// Async-signal-safe decimal formatting (describe() runs in the SIGSEGV handler).
char* put_number(char* p, char* end, std::uint64_t n) {
  char digits[24];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n);
  while (k && p < end) *p++ = digits[--k];
  return p;
}

}  // namespace

Term current_exception_reason() {
  try {
    throw;
  } catch (ExitUnwind& e) {
    return e.reason;
  } catch (std::exception& e) {
    return exception_reason(&typeid(e), e.what());
  } catch (...) {
    return exception_reason(abi::__cxa_current_exception_type(), "");
  }
}

Process::Process(NodeImpl& node, Pid pid, std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour)
    : node(node), pid(pid), body_(std::move(body)), behaviour_(std::move(behaviour)) {
  id = pid.value;
  wake = &mailbox.wake_word();
}

Process::~Process() {
  delete relations.load(std::memory_order_relaxed);
}

Process* current_process() {
  sd::Scheduler* s = sd::Scheduler::current();
  return s ? static_cast<Process*>(s->running()) : nullptr;
}

Process& self_process(const char* api) {
  Process* p = current_process();
  if (!p) {
    std::fprintf(stderr, "myrmex: %s() called outside a process\n", api);
    std::abort();
  }
  return *p;
}

void Process::describe(char* out, std::size_t size) const noexcept {
  if (size == 0) return;
  char* p = out;
  char* end = out + size - 1;
  auto put = [&](char c) {
    if (p < end) *p++ = c;
  };
  put('<');
  p = put_number(p, end, pid.node());
  put('.');
  p = put_number(p, end, pid.index());
  put('.');
  p = put_number(p, end, pid.generation());
  put('>');
  *p = '\0';
}

void Process::handle_signals() {
  if (const Term* reason = take_signals()) throw ExitUnwind{*reason};
}

const Term* Process::take_signals() {
  // While unwinding (for an exit or any exception; the count is this fiber's own) further signals wait:
  // throwing now would terminate. Once the process is exiting (its destructors run) they no longer
  // matter.
  if (exiting_ || std::uncaught_exceptions() > 0) return nullptr;
  if (pending_exit_) return pending_exit();
  while (mailbox::Envelope* e = mailbox.pop_system()) {
    Message m(e);
    if (auto* s = m.get<ExitSignal>()) {
      killed_ = s->untrappable;
      pending_exit_ = std::move(m);
      return pending_exit();
    }
    if (m.is<CodeSwap>()) take_code_swap(std::move(m));
  }
  return nullptr;
}

void Process::wake_senders(const std::vector<std::uint64_t>& ids) {
  for (std::uint64_t id : ids) {
    if (Process* sender = node.table.acquire(Pid{id})) {
      node.group.notify(*sender);
      node.table.release(sender);
    }
  }
}

namespace {
// TimeOut arms the process's timer for `ms` (none if `ms` <= 0) and disarms it however the scope ends: a
// match, the time-out, or an exit unwinding through. Disarming an unarmed timer does nothing.
struct TimeOut {
  TimeOut(Process& process, std::int64_t ms) : p(process), armed(ms > 0) {
    if (!armed) return;
    p.timed_out.store(false, std::memory_order_relaxed);
    p.scheduler->wheel().arm(p.timer, sd::deadline_after(ms));
  }
  ~TimeOut() {
    if (armed) p.scheduler->wheel().cancel(p.timer);
  }
  TimeOut(const TimeOut&) = delete;
  TimeOut& operator=(const TimeOut&) = delete;
  Process& p;
  const bool armed;  // a receive without a time-out (the common case) never touches the wheel
};
}  // namespace

mailbox::Envelope* Process::receive(const Matcher& matcher, int& which, std::int64_t timeout_ms,
                                    std::uint64_t marker) {
  charge(1);
  TimeOut time_out(*this, timeout_ms);
  // Messages already looked at by this receive stay looked at: after a wake-up the scan resumes where it
  // stopped, as BEAM's does, so waiting for a rare message costs O(new messages) per wake-up.
  mailbox::detail::Mailbox::Position pos = marker ? mailbox.marked(marker) : mailbox.start();
  for (;;) {
    if (mailbox.has_system()) handle_signals();
    while (mailbox::Envelope* e = mailbox.next_after(pos)) {
      charge(1);
      int w = matcher.match(matcher.clauses, *e);
      if (w >= 0) {
        which = w;
        mailbox::Envelope* taken = mailbox.take_after(pos);
        took_message();
        return taken;
      }
      pos = e;
    }
    if (timeout_ms == 0 || (timeout_ms > 0 && timed_out.load(std::memory_order_acquire))) return nullptr;
    park(/*wake_on_message=*/true);
  }
}

void Process::sleep(std::int64_t ms) {
  charge(1);
  if (ms <= 0) return;
  TimeOut time_out(*this, ms);
  for (;;) {
    if (mailbox.has_system()) handle_signals();  // a sleeping process can still be killed
    if (timed_out.load(std::memory_order_acquire)) return;
    park(/*wake_on_message=*/false);
  }
}

bool Process::run_behaviour() {
  if (!initialized_) {
    charge(1);
    initialized_ = true;
    behaviour_->init();
    if (stopping_) return true;
    init_done_ = true;
  }
  for (;;) {
    // Between two messages nothing of the behaviour's is on the stack: an exit ends the loop without a
    // throw, so killing an idle behaviour (Node::stop() of millions) costs no unwinding.
    if (mailbox.has_system()) {
      if (const Term* reason = take_signals()) {
        exit_reason_ = *reason;
        return true;
      }
    }
    if (has_pending_swaps()) apply_code_swaps();  // between two messages, never inside one
    // Idle at top level: give the stack back. The park is committed once the fiber is gone, and fails
    // (a fresh activation looks again) if a message or a signal came meanwhile.
    if (!mailbox.next_after(mailbox.start())) return false;
    charge(1);
    Message m(mailbox.take_after(mailbox.start()));
    took_message();
    behaviour_->handle(m);
    if (stopping_) return true;
  }
}

void Process::terminate_behaviour() noexcept {
  // As gen_server: not after a failed or stopping init(), and not after `kill`.
  if (!behaviour_ || !init_done_ || killed_) return;
  pending_exit_ = Message();  // the exit that brought us here must not fire again inside terminate()
  try {
    behaviour_->terminate(exit_reason_);
  } catch (...) {
    exit_reason_ = current_exception_reason();  // also an exit signal that arrived meanwhile
  }
}

void Process::stop_after_handler(Term reason) {
  if (!behaviour_) {
    std::fprintf(stderr, "myrmex: Behaviour::stop() called by %s, which is not a behaviour-style process\n",
                 pid.to_string().c_str());
    std::abort();
  }
  stopping_ = true;
  exit_reason_ = std::move(reason);
}

void* Process::operator new(std::size_t size) {
  void* p = md::pool_allocate(size);
  md::counted_add(md::Counted::process, 1);
  return p;
}

void Process::operator delete(void* p, std::size_t size) noexcept {
  md::counted_add(md::Counted::process, -1);
  md::pool_free(p, size);
}

sd::FiberEnd Process::run_fiber() noexcept {
  try {
    if (behaviour_) {
      if (!run_behaviour()) return sd::FiberEnd::hibernate;
      // stopped or killed between two messages: exit_reason_ holds the reason
    } else {
      body_->run();
      // A function that swallowed its exit (catch (...) without rethrow) and returned still exits so.
      exit_reason_ = pending_exit_ ? *pending_exit() : atoms::normal();
    }
    // The common kinds are caught by type here: current_exception_reason() rethrows, which costs a second
    // unwind (a third of a crash-and-restart cycle in W8).
  } catch (ExitUnwind& e) {
    exit_reason_ = std::move(e.reason);
  } catch (std::exception& e) {
    exit_reason_ = exception_reason(&typeid(e), e.what());
  } catch (...) {
    exit_reason_ = current_exception_reason();
  }
  // Still as the process, on its fiber: terminate(), then the destructors, with exits no longer taking
  // effect (a destructor must not throw).
  terminate_behaviour();
  exiting_ = true;
  behaviour_.reset();
  body_.reset();
  // Our name goes, then our links and monitors fire: everything we sent is queued before our Exits and
  // Downs. On the fiber, so that a process with a million links yields while it tells them.
  tear_down(*this, exit_reason_, [](Process& self) { self.charge(kTearDownPace); });
  torn_down_ = true;
  return sd::FiberEnd::finished;
}

void Process::terminating() noexcept {
  // The exception that met a noexcept function: an exit keeps its reason, anything else names itself.
  if (std::current_exception()) {
    exit_reason_ = current_exception_reason();
  } else {
    exit_reason_ = pending_exit_ ? *pending_exit() : Term::atom("terminate");
  }
}

void Process::fiber_ended(sd::FiberEnd how) noexcept {
  if (how == sd::FiberEnd::overflow || how == sd::FiberEnd::terminated) {
    if (how == sd::FiberEnd::overflow) exit_reason_ = atoms::stack_overflow();
    // The abandoned stack may hold pointers into these, and their destructors may use the API, which only
    // works on the process's fiber, now gone: leak them (see the README, "An abandoned stack leaks").
    leak_deliberately(behaviour_.release());
    leak_deliberately(body_.release());
  }
  scheduler->wheel().cancel(timer);
  // Our behaviour is destroyed and our fiber is done: nothing of ours runs its version's code again.
  if (Relations* r = relations.load(std::memory_order_acquire))
    if (CodeVersion* v = r->code.exchange(nullptr, std::memory_order_acq_rel)) v->drop();
  // Our name goes before anything shows us dead: alive(), a blocked sender's noproc, a new monitor's Down.
  release_attachment(*this);
  done.store(true, std::memory_order_release);
  sd::yield_point("exit.done.stored");
  // Senders blocked on our full mailbox must not wait for a process that is gone; later ones are refused.
  wake_senders(mailbox.take_blocked_senders(/*close=*/true));
  // An abandoned fiber could not tell its links and monitors: tell them from here.
  if (!torn_down_) tear_down(*this, exit_reason_, nullptr);
  if (node.config.log_crashes && !crash_reported_ && exit_reason_.kind() == Term::Kind::tuple &&
      exit_reason_.elements()[0].is_atom("exception")) {
    std::fprintf(stderr, "myrmex: process %s exited: %s\n", pid.to_string().c_str(),
                 exit_reason_.to_string().c_str());
  }
  NodeImpl& n = node;
  auto hook = std::move(on_exit);
  Term reason = std::move(exit_reason_);
  n.table.retire(this);  // may delete *this
  if (hook) (*hook)(reason);
  n.process_gone();
}

}  // namespace myrmex::vm::detail
