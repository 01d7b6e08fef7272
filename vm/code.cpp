// The code server's API (vm/code.h): what a process calls; the node's tables are in
// vm/detail/code_server.h, the process's side of a swap in vm/detail/code_change.cpp.
#include "vm/code.h"

#include "vm/detail/code_error.h"
#include "vm/detail/code_libraries.h"
#include "vm/detail/code_server.h"
#include "vm/detail/node_impl.h"
#include "vm/detail/process.h"
#include "vm/detail/relations.h"

namespace myrmex::vm::code {

namespace {

using detail::CodeVersion;
using detail::Process;
using detail::version_name;

// retire_and_kill() ends the versions a new one pushed out (the two-version rule): the node lets go of
// them, then their processes are killed.
void retire_and_kill(Process& self, const std::vector<CodeVersion*>& versions) {
  for (CodeVersion* v : versions) {
    self.node.code.retire(v);
    detail::kill_version(self, *v);
  }
}

// Waiting for a batch's answer, a Reply<SwapAllResult> to the caller's alias (detail::CallScope): nothing
// for it is queued after the scope ends, and detail::flush_call() takes what came before.
struct Waited {
  std::optional<SwapAllResult> result;
  std::optional<Down> down;
};
Waited wait_for_batch(Ref ref, std::chrono::milliseconds timeout) {
  Waited w;
  const auto mine = [ref](const Reply<SwapAllResult>& r) { return r.ref == ref; };
  const auto down = [ref](const Down& d) { return d.ref.value == ref.value; };
  detail::receive_marked(ref.value,
                         when(mine, [&](Reply<SwapAllResult>& r) { w.result = std::move(r.value); }),
                         when(down, [&](Down& d) { w.down = std::move(d); }), after(timeout, [] {}));
  return w;
}

void send_swap(Process& self, Process& target, CodeVersion* to,
               const std::shared_ptr<detail::SwapBatch>& batch) {
  target.mailbox.push_system(mailbox::box(detail::CodeSwap{to, batch}));
  self.node.group.notify(target);
}

}  // namespace

Expected<void, CodeError> add(VersionSpec spec) {
  Process& self = detail::self_process("code::add");
  self.charge(1);
  std::vector<CodeVersion*> pushed_out;
  auto added = self.node.code.add(std::move(spec), nullptr, pushed_out);
  retire_and_kill(self, pushed_out);
  return added;
}

Expected<LibraryInfo, CodeError> load_library(const std::string& path) {
  Process& self = detail::self_process("code::load_library");
  self.charge(1);
  auto opened = blocking([&] { return detail::open_library(path); });
  if (!opened) return unexpected(opened.error());
  detail::CodeLibrary& library = *opened->library;
  const LibraryExports& exports = *opened->exports;
  LibraryInfo info{path, {}};
  for (std::size_t i = 0; i < exports.count; ++i) {
    const VersionSpec& spec = exports.versions[i];
    if (self.node.code.find(spec.kind, spec.version)) {
      blocking([&] { detail::release(library); });
      return unexpected(detail::code_error(CodeError::already_loaded,
                                           version_name(spec.kind, spec.version) + " is loaded"));
    }
  }
  std::vector<CodeVersion*> pushed_out;
  std::optional<CodeError> failed;
  for (std::size_t i = 0; i < exports.count && !failed; ++i) {
    const VersionSpec& spec = exports.versions[i];
    if (auto added = self.node.code.add(spec, &library, pushed_out); !added)
      failed = added.error();
    else
      info.versions.emplace_back(spec.kind, spec.version);
  }
  retire_and_kill(self, pushed_out);
  blocking([&] { detail::release(library); });  // each added version holds its own reference
  if (failed) return unexpected(std::move(*failed));
  return info;
}

Expected<Pid, CodeError> spawn(const std::string& kind, const Term& args, const SpawnOptions& options) {
  Process& self = detail::self_process("code::spawn");
  auto made = self.node.code.instantiate(kind, args);
  if (!made) return unexpected(made.error());
  return detail::spawn_versioned(std::move(made->first), options, std::move(made->second), false).first;
}

Expected<void, CodeError> swap(Pid pid, Version version, std::chrono::milliseconds timeout) {
  Process& self = detail::self_process("code::swap");
  self.charge(1);
  Process* target = self.node.table.acquire(pid);
  if (!target)
    return unexpected(
        detail::code_error(CodeError::noproc, pid.to_string() + " is not alive", atoms::noproc()));
  struct Release {
    detail::ProcessTable& table;
    Process* p;
    ~Release() { table.release(p); }
  } hold{self.node.table, target};
  // Ending (alive() says dead) but not yet gone from the table: as dead.
  if (target->closed.load(std::memory_order_acquire))
    return unexpected(
        detail::code_error(CodeError::noproc, pid.to_string() + " is not alive", atoms::noproc()));
  CodeVersion* running = target->code_version();
  if (!running)
    return unexpected(
        detail::code_error(CodeError::not_swappable, pid.to_string() + " runs no behaviour kind"));
  CodeVersion* to = self.node.code.find(running->spec.kind, version);
  if (!to)
    return unexpected(detail::code_error(CodeError::not_loaded,
                                         version_name(running->spec.kind, version) + " is not loaded"));
  if (&self == target) {  // waiting for ourselves would wait forever
    send_swap(self, self, to, std::make_shared<detail::SwapBatch>(self.node, Pid{}, 0));
    return {};
  }
  detail::CallScope scope(pid);  // the alias the answer must carry, and a monitor: its exit ends the wait
  if (!scope.server_alive())
    return unexpected(
        detail::code_error(CodeError::noproc, pid.to_string() + " is not alive", atoms::noproc()));
  const Ref ref = scope.ref();
  send_swap(self, *target, to, std::make_shared<detail::SwapBatch>(self.node, self.pid, ref.value));
  Waited w = wait_for_batch(ref, timeout);
  // It ended before it took the signal: its Down follows (or came first) with the reason.
  if (w.result && w.result->ended && !w.down) w = {w.result, wait_for_batch(ref, timeout).down};
  if (scope.end() || !w.result) detail::flush_call<SwapAllResult>(ref);
  if (w.result && w.result->swapped) return {};
  if (w.result && !w.result->failed.empty()) return unexpected(std::move(w.result->failed.front().second));
  if (w.down)
    return unexpected(
        detail::code_error(CodeError::exited, pid.to_string() + " ended", std::move(w.down->reason)));
  return unexpected(
      detail::code_error(CodeError::timeout, "no answer from " + pid.to_string(), atoms::timeout()));
}

Expected<SwapAllResult, CodeError> swap_all(const std::string& kind, Version version,
                                            std::chrono::milliseconds timeout) {
  Process& self = detail::self_process("code::swap_all");
  self.charge(1);
  CodeVersion* to = self.node.code.find(kind, version);
  if (!to)
    return unexpected(
        detail::code_error(CodeError::not_loaded, version_name(kind, version) + " is not loaded"));
  // A call scope on ourselves: only its alias is wanted (the monitor never fires while we wait).
  detail::CallScope scope(self.pid);
  const Ref ref = scope.ref();
  auto batch = std::make_shared<detail::SwapBatch>(self.node, self.pid, ref.value);
  detail::for_each_on(
      self, [&](CodeVersion* v) { return v && v->spec.kind == kind; },
      [&](Process& p) {
        if (&p == &self) return;
        if (p.code_version() == to) {
          batch->swapped.fetch_add(1, std::memory_order_relaxed);
        } else {
          send_swap(self, p, to, batch);
        }
      });
  batch.reset();
  Waited w = wait_for_batch(ref, timeout);
  if (scope.end() || !w.result) detail::flush_call<SwapAllResult>(ref);
  if (!w.result)
    return unexpected(detail::code_error(CodeError::timeout, "not every process of " + kind + " answered",
                                         atoms::timeout()));
  return std::move(*w.result);
}

namespace {

// take_old() takes the kind's old version out of its table (null: it has none); `if_unused` refuses while
// processes run it.
Expected<CodeVersion*, CodeError> take_old(Process& self, const std::string& kind, bool if_unused) {
  std::size_t in_use = 0;
  bool known = false;
  CodeVersion* old = self.node.code.take_old(kind, if_unused, in_use, known);
  if (!known) return unexpected(detail::code_error(CodeError::not_loaded, "no kind " + kind + " is loaded"));
  if (!old && if_unused && in_use > 0) {
    CodeError e =
        detail::code_error(CodeError::in_use, std::to_string(in_use) + " processes run the old " + kind);
    e.count = in_use;
    return unexpected(std::move(e));
  }
  return old;
}

}  // namespace

Expected<std::size_t, CodeError> purge(const std::string& kind) {
  Process& self = detail::self_process("code::purge");
  self.charge(1);
  auto old = take_old(self, kind, false);
  if (!old) return unexpected(old.error());
  if (!*old) return std::size_t{0};
  self.node.code.retire(*old);
  return detail::kill_version(self, **old);
}

Expected<void, CodeError> soft_purge(const std::string& kind) {
  Process& self = detail::self_process("code::soft_purge");
  self.charge(1);
  auto old = take_old(self, kind, true);
  if (!old) return unexpected(old.error());
  if (*old) self.node.code.retire(*old);
  return {};
}

std::vector<KindInfo> which_kinds() {
  Process& self = detail::self_process("code::which_kinds");
  self.charge(1);
  return self.node.code.kinds();
}

std::size_t libraries_open() {
  return detail::open_libraries.load(std::memory_order_acquire);
}

}  // namespace myrmex::vm::code

namespace myrmex::vm::detail {

Expected<std::pair<Pid, MonitorRef>, code::CodeError> spawn_kind(
    const std::string& kind, const Term& args, const SpawnOptions& options,
    const std::function<bool(Behaviour&)>& prepare) {
  Process& self = self_process("spawn");
  auto made = self.node.code.instantiate(kind, args);
  if (!made) return unexpected(made.error());
  if (!prepare(*made->first))
    return unexpected(code_error(code::CodeError::not_loaded, kind + ": its behaviour was refused"));
  return spawn_versioned(std::move(made->first), options, std::move(made->second), true);
}

}  // namespace myrmex::vm::detail
