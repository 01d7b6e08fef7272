// A process's side of a hot code swap (vm/code.h): take the signal wherever the process is, apply it
// between two messages.
#include "vm/detail/code_error.h"
#include "vm/detail/code_server.h"
#include "vm/detail/process.h"

namespace myrmex::vm::detail {

void Process::take_code_swap(Message signal) {
  CodeSwap& swap = *signal.get<CodeSwap>();
  if (!behaviour_ || !code_version()) {
    // Nothing to wait for: a function, or a behaviour that runs no version of a kind.
    swap.answered = true;
    swap.batch->failed(
        pid, code_error(code::CodeError::not_swappable, pid.to_string() + " runs no behaviour kind"));
    return;
  }
  relations.load(std::memory_order_relaxed)->pending_swaps.push_back(std::move(signal));
}

void Process::apply_code_swaps() {
  std::vector<Message> swaps = std::move(relations.load(std::memory_order_relaxed)->pending_swaps);
  for (Message& m : swaps) apply_code_swap(*m.get<CodeSwap>());
}

void Process::apply_code_swap(CodeSwap& swap) {
  swap.answered = true;
  CodeVersion* from = code_version();
  CodeVersion* to = swap.to;
  if (from == to) {
    swap.batch->swapped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!to->hold()) {
    swap.batch->failed(pid, code_error(code::CodeError::not_loaded,
                                       version_name(to->spec.kind, to->spec.version) + " is being purged"));
    return;
  }
  CodeHold hold(to);
  std::unique_ptr<Behaviour> next;
  try {
    Term state = behaviour_->export_state();
    next = to->spec.change(from->spec.version, state);
    if (!next) throw std::logic_error("code_change made no behaviour");
    next->carry_over(*behaviour_);
  } catch (ExitUnwind&) {
    throw;  // an exit that reached the process meanwhile: it ends (the swapper sees it exit)
  } catch (...) {
    swap.batch->failed(
        pid, code_error(code::CodeError::code_change_failed,
                        "code_change to " + version_name(to->spec.kind, to->spec.version) + " failed",
                        current_exception_reason()));
    return;  // on the old version, with its state, running
  }
  std::swap(behaviour_, next);
  next.reset();  // the old version's destructor, while its code is still held
  relations.load(std::memory_order_relaxed)->code.store(hold.release(), std::memory_order_release);
  from->drop();
  swap.batch->swapped.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace myrmex::vm::detail
