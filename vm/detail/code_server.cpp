#include "vm/detail/code_server.h"

#include <algorithm>
#include <unordered_set>

#include "vm/call.h"
#include "vm/detail/code_error.h"
#include "vm/detail/code_libraries.h"
#include "vm/detail/node_impl.h"
#include "vm/detail/process.h"
#include "vm/detail/relations.h"

namespace myrmex::vm::detail {

bool CodeVersion::hold() noexcept {
  processes.fetch_add(1, std::memory_order_seq_cst);
  // Against take_old(): either it sees our count (and kills us), or we see it retired.
  if (retired.load(std::memory_order_seq_cst)) {
    processes.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (library) retain(*library);
  return true;
}

void CodeVersion::drop() noexcept {
  processes.fetch_sub(1, std::memory_order_release);
  if (library) release(*library);
}

SwapBatch::~SwapBatch() {
  if (!caller) return;  // a process that swapped itself waits for no answer
  Reply<code::SwapAllResult> done{Ref{ref}, {}};
  done.value.swapped = swapped.load(std::memory_order_relaxed);
  done.value.ended = ended.load(std::memory_order_relaxed);
  done.value.failed = std::move(failures);
  send_reply(node, caller, ref, mailbox::box(std::move(done)));
}

void SwapBatch::failed(Pid pid, code::CodeError error) {
  std::lock_guard lock(failures_mutex);
  failures.emplace_back(pid, std::move(error));
}

CodeServer::~CodeServer() {
  for (auto& v : versions_)
    if (!v->retired.load(std::memory_order_relaxed) && v->library) release(*v->library);
}

Expected<void, code::CodeError> CodeServer::add(code::VersionSpec spec, CodeLibrary* library,
                                                std::vector<CodeVersion*>& to_purge) {
  if (!spec.start || !spec.change || spec.kind.empty())
    return unexpected(
        code_error(code::CodeError::bad_library,
                   version_name(spec.kind, spec.version) + ": a version needs a kind, start and change"));
  std::lock_guard lock(mutex_);
  Kind& k = kinds_[spec.kind];
  for (CodeVersion* v : {k.current, k.old})
    if (v && v->spec.version == spec.version)
      return unexpected(
          code_error(code::CodeError::already_loaded, version_name(spec.kind, spec.version) + " is loaded"));
  if (k.old) {
    k.old->retired.store(true, std::memory_order_seq_cst);
    to_purge.push_back(k.old);
  }
  auto v = std::make_unique<CodeVersion>();
  v->spec = std::move(spec);
  v->library = library;
  if (library) retain(*library);
  k.old = k.current;
  k.current = v.get();
  versions_.push_back(std::move(v));
  return {};
}

CodeVersion* CodeServer::find(const std::string& kind, code::Version version) {
  std::lock_guard lock(mutex_);
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) return nullptr;
  if (version == 0) return it->second.current;
  for (CodeVersion* v : {it->second.current, it->second.old})
    if (v && v->spec.version == version) return v;
  return nullptr;
}

Expected<std::pair<std::unique_ptr<Behaviour>, CodeHold>, code::CodeError> CodeServer::instantiate(
    const std::string& kind, const Term& args) {
  CodeVersion* v = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end() || !it->second.current)
      return unexpected(code_error(code::CodeError::not_loaded, "no kind " + kind + " is loaded"));
    // Held before its code runs: a purge cannot unload the library under start().
    v = it->second.current;
    if (!v->hold())
      return unexpected(code_error(code::CodeError::not_loaded, version_name(kind, v->spec.version)));
  }
  CodeHold hold(v);
  std::unique_ptr<Behaviour> behaviour = hold.get()->spec.start(args);
  return std::pair{std::move(behaviour), std::move(hold)};
}

CodeVersion* CodeServer::take_old(const std::string& kind, bool if_unused, std::size_t& in_use, bool& known) {
  std::lock_guard lock(mutex_);
  auto it = kinds_.find(kind);
  known = it != kinds_.end();
  if (!known || !it->second.old) return nullptr;
  CodeVersion* v = it->second.old;
  in_use = v->processes.load(std::memory_order_seq_cst);
  if (if_unused && in_use > 0) return nullptr;
  v->retired.store(true, std::memory_order_seq_cst);
  it->second.old = nullptr;
  return v;
}

void CodeServer::retire(CodeVersion* v) {
  if (v->library) release(*v->library);
}

std::vector<code::KindInfo> CodeServer::kinds() {
  std::lock_guard lock(mutex_);
  std::vector<code::KindInfo> out;
  for (auto& [name, k] : kinds_) {
    if (!k.current) continue;
    code::KindInfo info{name, {}};
    for (CodeVersion* v : {k.current, k.old}) {
      if (!v) continue;
      info.versions.push_back({v->spec.version, v == k.current, v->library ? library_path(*v->library) : "",
                               v->processes.load(std::memory_order_relaxed)});
    }
    out.push_back(std::move(info));
  }
  return out;
}

void for_each_on(Process& self, const std::function<bool(CodeVersion*)>& match,
                 const std::function<void(Process&)>& f) {
  std::vector<Pid> pids;
  self.node.table.for_each_live([&](Process& p) {
    if (match(p.code_version())) pids.push_back(p.pid);
  });
  std::size_t walked = 0;
  for (Pid pid : pids) {
    if (++walked % 256 == 0) self.charge(1);
    Process* p = self.node.table.acquire(pid);
    if (!p) continue;
    if (match(p->code_version())) f(*p);
    self.node.table.release(p);
  }
}

std::size_t kill_version(Process& self, CodeVersion& v) {
  std::unordered_set<std::uint64_t> killed;
  // Rounds until the count is zero: a process that swapped onto the version just before it was retired is
  // found by the next round. A caller on the version is killed too (at its next charge point).
  while (v.processes.load(std::memory_order_acquire) > 0) {
    for_each_on(
        self, [&v](CodeVersion* on) { return on == &v; },
        [&](Process& p) {
          if (killed.insert(p.pid.value).second) self.node.kill(p);
        });
    if (v.processes.load(std::memory_order_acquire) > 0) self.sleep(1);
  }
  return killed.size();
}

}  // namespace myrmex::vm::detail
