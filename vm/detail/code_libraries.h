// Code libraries: the shared libraries the code server dlopens, and what keeps each loaded while anything
// can still reach into it.
//
// Internal to myrmex. A library's memory holds code and data that outlive the calls into it: the vtables
// of its behaviours, and in every message it boxed the destroy function and the type_info. So a library
// counts references: one for each node that registered its versions (until they are purged), one for each
// process running one of its versions, and one for each live envelope it boxed. dlclose runs when the
// count reaches zero, from whichever thread dropped the last one.
//
// Envelopes are found as they are sent (NodeImpl::send, send_reply): one relaxed load while no library is
// open; otherwise, an envelope whose destroy function or type_info lies in a library has its destroy
// function replaced by a trampoline of the library's slot, which looks up the original by type, calls it,
// and drops the reference. Libraries are process-wide (dlopen is); two nodes loading one path share it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mailbox/message.h"
#include "vm/code.h"
#include "vm/expected.h"

namespace myrmex::vm::detail {

class CodeLibrary;

struct OpenedLibrary {
  CodeLibrary* library;  // holds one reference for the caller
  const code::LibraryExports* exports;
};
// open_library() dlopens `path` (RTLD_NOW | RTLD_LOCAL, so two versions' symbols never bind to each other)
// and checks its entry point. A path already open gives the same library, one reference more.
Expected<OpenedLibrary, code::CodeError> open_library(const std::string& path);

void retain(CodeLibrary& library) noexcept;
// release() drops a reference; the last one closes the library.
void release(CodeLibrary& library) noexcept;
const std::string& library_path(const CodeLibrary& library) noexcept;

extern std::atomic<std::size_t> open_libraries;
// track_envelope() makes `e` hold a reference on the library its code came from, if it came from one.
void track_library_envelope(mailbox::Envelope* e) noexcept;
inline void track_envelope(mailbox::Envelope* e) noexcept {
  if (open_libraries.load(std::memory_order_relaxed) != 0) [[unlikely]]
    track_library_envelope(e);
}

}  // namespace myrmex::vm::detail
