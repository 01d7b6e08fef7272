// Messages: any movable C++ value, moved once into a heap envelope and passed by pointer.
//
// A local message is never copied or serialized after send(): the sender moves the value into an
// Envelope, the receiver's handler gets a reference to it, and the envelope is freed after the handler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace myrmex::mailbox {

// Envelope is the type-erased header of one message. Its `next` link belongs to whichever queue holds it.
struct Envelope {
  std::atomic<Envelope*> next{nullptr};
  // The held type: its type_info's address in the low 48 bits, a hash of its name in the top 16
  // (detail::type_word<T>()). A type test is one compare when it matches and, almost always, when it
  // does not; only an equal hash with another address needs a look at the names.
  std::uintptr_t type_word = 0;
  void (*destroy)(Envelope*) noexcept = nullptr;

  const std::type_info& type() const {
    return *reinterpret_cast<const std::type_info*>(type_word & kAddress);
  }
  static constexpr std::uintptr_t kAddress = (std::uintptr_t{1} << 48) - 1;
};
static_assert(sizeof(std::uintptr_t) == 8, "the type word packs a 48-bit address and a 16-bit hash");

namespace detail {
// Envelope memory comes from a per-thread small-object pool (over-aligned ones from operator new): a send
// allocates one, a receive frees one. Both count live envelopes, so tests can check for leaks.
void* allocate(std::size_t size, std::size_t alignment);
void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept;
// demangle() is a type's name as written in C++ ("std::__cxx11::basic_string<char, ...>").
std::string demangle(const std::type_info& type);
// same_type() is the slow half of a type test, after the type_info pointers differed: the names are
// equal (a type whose type_info two images hold, e.g. a program and an ordinary shared library), and
// neither lies in a code library (vm/code.h). Two versions of a behaviour may each define a type of the
// same name with another layout: matching those by name would be undefined behaviour.
bool same_type(const std::type_info& a, const std::type_info& b) noexcept;

// name_hash<T>() is a 16-bit hash of T's name as the compiler spells it, fixed at compile time, so every
// image (the program, a shared library, a code library) computes the same value for the same type.
template <class T>
consteval std::uintptr_t name_hash() {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (char c : std::string_view(__PRETTY_FUNCTION__)) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return (h ^ (h >> 16)) & 0xffff;
}
template <class T>
std::uintptr_t type_word() {
  return reinterpret_cast<std::uintptr_t>(&typeid(T)) | name_hash<T>() << 48;
}
// same_type_word() tells whether two type words name the same type: the same word, or the same hash and
// same_type() (a type_info that two images hold).
inline bool same_type_word(std::uintptr_t a, std::uintptr_t b) noexcept {
  if (a == b) return true;
  if ((a ^ b) >> 48) return false;
  return same_type(*reinterpret_cast<const std::type_info*>(a & Envelope::kAddress),
                   *reinterpret_cast<const std::type_info*>(b & Envelope::kAddress));
}
// set_foreign_type_check() installs the test "does this type_info lie in a code library" (vm/ does, when
// it loads the first one). Any thread.
void set_foreign_type_check(bool (*in_code_library)(const void* address) noexcept) noexcept;
}  // namespace detail

// Boxed<T> is an envelope holding a T.
template <class T>
struct Boxed final : Envelope {
  template <class... Args>
  explicit Boxed(Args&&... args) : value(std::forward<Args>(args)...) {
    type_word = detail::type_word<T>();
    destroy = [](Envelope* e) noexcept { delete static_cast<Boxed*>(e); };
  }
  T value;

  static void* operator new(std::size_t size) { return detail::allocate(size, alignof(Boxed)); }
  static void operator delete(void* p, std::size_t size) noexcept {
    detail::deallocate(p, size, alignof(Boxed));
  }
};

// box() moves `value` into a new envelope.
template <class T>
Envelope* box(T&& value) {
  return new Boxed<std::remove_cvref_t<T>>(std::forward<T>(value));
}

// unbox() is the T inside `e`, or nullptr if `e` holds another type.
template <class T>
T* unbox(Envelope* e) {
  return detail::same_type_word(e->type_word, detail::type_word<T>()) ? &static_cast<Boxed<T>*>(e)->value
                                                                      : nullptr;
}

inline void destroy(Envelope* e) noexcept {
  if (e) e->destroy(e);
}

// Message owns one received envelope. Handlers of behaviour-style processes get one per message.
//
//   void handle(Message& m) override {
//     if (auto* n = m.get<int>()) total += *n;
//     else if (m.is<Stop>()) myrmex::exit(myrmex::Term::atom("normal"));
//   }
class Message {
 public:
  Message() = default;
  explicit Message(Envelope* e) : e_(e) {}
  Message(Message&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Message& operator=(Message&& o) noexcept {
    if (this != &o) {
      destroy(e_);
      e_ = std::exchange(o.e_, nullptr);
    }
    return *this;
  }
  ~Message() { destroy(e_); }

  // is<T>() tells whether the message holds a T.
  template <class T>
  bool is() const {
    return e_ && detail::same_type_word(e_->type_word, detail::type_word<T>());
  }
  // get<T>() is the held T, or nullptr when it holds another type.
  template <class T>
  T* get() {
    return e_ ? unbox<T>(e_) : nullptr;
  }
  const std::type_info& type() const { return e_->type(); }
  std::uintptr_t type_word() const { return e_->type_word; }
  // type_name() is the held type's name, demangled ("Ping", "std::vector<int, std::allocator<int> >").
  std::string type_name() const { return e_ ? detail::demangle(e_->type()) : std::string("(empty)"); }
  explicit operator bool() const { return e_ != nullptr; }
  Envelope* release() { return std::exchange(e_, nullptr); }

 private:
  Envelope* e_ = nullptr;
};

// Overflow is what a bounded mailbox does with a message that does not fit.
enum class Overflow {
  block,   // the sending process parks until there is room (back-pressure)
  drop,    // the message is discarded; send() reports SendResult::dropped
  reject,  // the message is not delivered; send() reports SendResult::mailbox_full
};

// SendResult is what send() observed. As in Erlang, sending to a dead process is not an error.
enum class SendResult {
  ok,            // delivered to the mailbox
  noproc,        // the target is dead (or never existed): nothing happened
  dropped,       // bounded mailbox full, policy drop
  mailbox_full,  // bounded mailbox full, policy reject
};

}  // namespace myrmex::mailbox
