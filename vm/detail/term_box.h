// The heap blocks behind terms that do not fit in 16 bytes. Internal to myrmex (vm/term*.cpp).
//
// One block per term, its items inline after the header, so a tuple of three is one allocation. Blocks
// are reference counted and immutable once built; the last reference destroys the items and frees it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "memory/detail/object_pool.h"
#include "vm/term.h"

namespace myrmex::vm::detail {

struct alignas(8) TermBox {
  std::atomic<std::uint32_t> refs{1};
  Term::Kind kind;
  std::uint32_t size = 0;  // items (tuple, list, map), bytes (binary, bignum), ids (reference)

  static Term wrap(Term::Kind kind, TermBox* box) { return Term(kind, box); }
  static TermBox* of(const Term& t) { return t.box_; }
  static void destroy(TermBox* box) noexcept;
};

// trailing<T>() is the inline array after a header of type H.
template <class T, class H>
T* trailing(H* header) {
  return reinterpret_cast<T*>(reinterpret_cast<char*>(header) + sizeof(H));
}
template <class T, class H>
const T* trailing(const H* header) {
  return reinterpret_cast<const T*>(reinterpret_cast<const char*>(header) + sizeof(H));
}

struct TupleBox : TermBox {  // then Term[size]
  Term* items() { return trailing<Term>(this); }
  const Term* items() const { return trailing<Term>(this); }
};

struct ListBox : TermBox {  // then Term[size]
  Term tail;                // never a list other than nil
  Term* items() { return trailing<Term>(this); }
  const Term* items() const { return trailing<Term>(this); }
};

struct MapBox : TermBox {  // then MapEntry[size], in key order, keys distinct
  MapEntry* entries() { return trailing<MapEntry>(this); }
  const MapEntry* entries() const { return trailing<MapEntry>(this); }
};

struct BinaryBox : TermBox {  // then char[size]
  std::uint8_t bits = 8;      // used bits of the last byte
  char* bytes() { return trailing<char>(this); }
  const char* bytes() const { return trailing<char>(this); }
};

struct BignumBox : TermBox {  // then uint8_t[size], little-endian, last byte non-zero
  bool negative = false;
  std::uint8_t* digits() { return trailing<std::uint8_t>(this); }
  const std::uint8_t* digits() const { return trailing<std::uint8_t>(this); }
};

struct ReferenceBox : TermBox {
  std::uint32_t node = 0;
  std::uint32_t ids[5] = {};
};

struct PortBox : TermBox {
  std::uint32_t node = 0;
  std::uint64_t id = 0;
};

struct FunBox : TermBox {
  Fun fun;
};

// make_box() allocates a header H with `extra` bytes of items after it (to be constructed by the caller),
// from the small-object pool: decoding makes and frees boxes by the thousand.
template <class H>
H* make_box(Term::Kind kind, std::uint32_t size, std::size_t extra) {
  void* memory = memory::detail::pool_allocate(sizeof(H) + extra);
  H* box = new (memory) H();
  box->kind = kind;
  box->size = size;
  return box;
}

}  // namespace myrmex::vm::detail
