#include "vm/detail/code_libraries.h"

#include <dlfcn.h>
#include <link.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <typeinfo>
#include <utility>

#include "vm/detail/code_error.h"

namespace myrmex::vm::detail {

std::atomic<std::size_t> open_libraries{0};

namespace {

using Destroy = void (*)(mailbox::Envelope*) noexcept;

constexpr int kSlots = 32;
constexpr std::size_t kMaxTypes = 256;

}  // namespace

class CodeLibrary {
 public:
  std::string path;
  void* handle = nullptr;
  std::uintptr_t low = 0, high = 0;  // the span of its loaded segments
  int slot = -1;
  std::atomic<std::int64_t> references{1};

  bool contains(const void* address) const noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(address);
    return a >= low && a < high;
  }

  // The original destroy function of each envelope type it boxed; appended under types_mutex, read
  // without a lock up to type_count.
  struct TypeDestroy {
    const std::type_info* type;
    Destroy destroy;
  };
  std::mutex types_mutex;
  std::array<TypeDestroy, kMaxTypes> types{};
  std::atomic<std::size_t> type_count{0};

  Destroy original(const std::type_info* type) const noexcept {
    std::size_t n = type_count.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i)
      if (types[i].type == type) return types[i].destroy;
    return nullptr;
  }
  // remember() records type's destroy function; false when it cannot (full, or another function for the
  // same type): then the envelope keeps its own and the library stays loaded for good.
  bool remember(const std::type_info* type, Destroy destroy) noexcept {
    std::lock_guard lock(types_mutex);
    std::size_t n = type_count.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i)
      if (types[i].type == type) return types[i].destroy == destroy;
    if (n == kMaxTypes) return false;
    types[n] = {type, destroy};
    type_count.store(n + 1, std::memory_order_release);
    return true;
  }
};

namespace {

std::mutex libraries_mutex;
std::array<std::atomic<CodeLibrary*>, kSlots> slots{};  // written under libraries_mutex

CodeLibrary* library_containing(const void* address) noexcept {
  for (auto& s : slots)
    if (CodeLibrary* l = s.load(std::memory_order_acquire); l && l->contains(address)) return l;
  return nullptr;
}

bool in_code_library(const void* address) noexcept {
  return library_containing(address) != nullptr;
}

template <int Slot>
void tracked_destroy(mailbox::Envelope* e) noexcept {
  CodeLibrary& library = *slots[Slot].load(std::memory_order_acquire);  // the envelope holds it open
  library.original (&e->type())(e);
  release(library);
}

template <int... S>
constexpr std::array<Destroy, kSlots> make_trampolines(std::integer_sequence<int, S...>) {
  return {&tracked_destroy<S>...};
}
constexpr std::array<Destroy, kSlots> trampolines =
    make_trampolines(std::make_integer_sequence<int, kSlots>{});

// span_of() finds the loaded segments of the object `handle` names.
bool span_of(void* handle, std::uintptr_t& low, std::uintptr_t& high) {
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map) return false;
  struct Search {
    ElfW(Addr) base;
    std::uintptr_t low = UINTPTR_MAX, high = 0;
  } search{map->l_addr};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto& s = *static_cast<Search*>(data);
        if (info->dlpi_addr != s.base) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          s.low = std::min(s.low, begin);
          s.high = std::max(s.high, begin + ph.p_memsz);
        }
        return 1;
      },
      &search);
  low = search.low;
  high = search.high;
  return high > low;
}

}  // namespace

Expected<OpenedLibrary, code::CodeError> open_library(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return unexpected(code_error(code::CodeError::bad_library, why ? why : "dlopen failed: " + path));
  }
  using Entry = const code::LibraryExports* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "myrmex_code_library"));
  if (!entry) {
    dlclose(handle);
    return unexpected(code_error(code::CodeError::bad_library,
                                 path + ": no entry point myrmex_code_library (MYRMEX_CODE_LIBRARY)"));
  }
  const code::LibraryExports* exports = entry();
  if (exports->abi != code::kAbi || exports->compiler != __GXX_ABI_VERSION) {
    char message[256];
    std::snprintf(message, sizeof message,
                  "%s: built against Myrmex ABI %u (C++ ABI %u), this program is ABI %u (C++ ABI %u)",
                  path.c_str(), exports->abi, exports->compiler, code::kAbi, __GXX_ABI_VERSION);
    dlclose(handle);
    return unexpected(code_error(code::CodeError::abi_mismatch, message));
  }
  std::lock_guard lock(libraries_mutex);
  for (auto& s : slots) {
    CodeLibrary* l = s.load(std::memory_order_relaxed);
    if (!l || l->handle != handle) continue;
    // Open already (dlopen counted it twice): share it, unless it is closing this moment.
    std::int64_t n = l->references.load(std::memory_order_relaxed);
    while (n > 0 && !l->references.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) {
    }
    if (n > 0) {
      dlclose(handle);
      return OpenedLibrary{l, exports};
    }
  }
  int slot = -1;
  for (int i = 0; i < kSlots && slot < 0; ++i)
    if (!slots[i].load(std::memory_order_relaxed)) slot = i;
  auto library = std::make_unique<CodeLibrary>();
  if (slot < 0 || !span_of(handle, library->low, library->high)) {
    dlclose(handle);
    return unexpected(
        code_error(code::CodeError::bad_library, slot < 0 ? "too many code libraries open at once (32)"
                                                          : path + ": cannot find its loaded segments"));
  }
  library->path = path;
  library->handle = handle;
  library->slot = slot;
  mailbox::detail::set_foreign_type_check(&in_code_library);
  CodeLibrary* l = library.release();
  slots[slot].store(l, std::memory_order_release);
  open_libraries.fetch_add(1, std::memory_order_release);
  return OpenedLibrary{l, exports};
}

void retain(CodeLibrary& library) noexcept {
  library.references.fetch_add(1, std::memory_order_relaxed);
}

void release(CodeLibrary& library) noexcept {
  if (library.references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  {
    std::lock_guard lock(libraries_mutex);
    slots[library.slot].store(nullptr, std::memory_order_release);
    open_libraries.fetch_sub(1, std::memory_order_relaxed);
  }
  dlclose(library.handle);
  delete &library;
}

const std::string& library_path(const CodeLibrary& library) noexcept {
  return library.path;
}

void track_library_envelope(mailbox::Envelope* e) noexcept {
  for (Destroy t : trampolines)
    if (e->destroy == t) return;  // tracked already (a forwarded message)
  CodeLibrary* library = library_containing(reinterpret_cast<const void*>(e->destroy));
  if (!library) library = library_containing(&e->type());
  if (!library) return;
  retain(*library);
  if (library->remember(&e->type(), e->destroy)) {
    e->destroy = trampolines[library->slot];
  } else {
    std::fprintf(stderr, "myrmex: %s: cannot track a message type it boxed; it stays loaded\n",
                 library->path.c_str());  // the reference just taken is never dropped
  }
}

}  // namespace myrmex::vm::detail
