// ETF encoding: the tags OTP 26 writes by default, which every OTP from 23 reads.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dist/detail/etf_tags.h"
#include "dist/etf.h"
#include "vm/detail/bignum.h"
#include "vm/detail/node_slots.h"

namespace myrmex::dist {

namespace {

using namespace detail;
using vm::Term;
using Kind = Term::Kind;

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out), len_(out.size()) {}
  ~Encoder() { out_.resize(len_); }

  void term(const Term& t) {
    switch (t.kind()) {
      case Kind::integer:
        integer(t.as_integer());
        break;
      case Kind::bignum:
        big(t.bignum_negative(), t.bignum_magnitude());
        break;
      case Kind::floating: {
        std::uint64_t bits;
        double d = t.as_float();
        std::memcpy(&bits, &d, sizeof bits);
        byte(NEW_FLOAT_EXT);
        u64(bits);
        break;
      }
      case Kind::atom:
        atom(t.atom_name());
        break;
      case Kind::reference: {
        auto ids = t.reference_ids();
        byte(NEWER_REFERENCE_EXT);
        u16(static_cast<std::uint16_t>(ids.size()));
        std::uint32_t creation = node(t.node_slot());
        u32(creation);
        for (std::uint32_t id : ids) u32(id);
        break;
      }
      case Kind::fun:
        fun(t.as_fun());
        break;
      case Kind::port: {
        std::uint64_t id = t.port_id();
        byte(id >> 32 ? V4_PORT_EXT : NEW_PORT_EXT);
        std::uint32_t creation = node(t.node_slot());
        if (id >> 32)
          u64(id);
        else
          u32(static_cast<std::uint32_t>(id));
        u32(creation);
        break;
      }
      case Kind::pid: {
        vm::Pid p = t.as_pid();
        byte(NEW_PID_EXT);
        std::uint32_t creation = node(p.node());
        u32(p.index());
        u32(p.generation());
        u32(creation);
        break;
      }
      case Kind::tuple: {
        auto items = t.elements();
        if (items.size() <= 255) {
          byte(SMALL_TUPLE_EXT);
          byte(static_cast<std::uint8_t>(items.size()));
        } else {
          byte(LARGE_TUPLE_EXT);
          u32(static_cast<std::uint32_t>(items.size()));
        }
        for (const Term& e : items) term(e);
        break;
      }
      case Kind::map: {
        auto entries = t.map_entries();
        byte(MAP_EXT);
        u32(static_cast<std::uint32_t>(entries.size()));
        for (const vm::MapEntry& e : entries) {
          term(e.key);
          term(e.value);
        }
        break;
      }
      case Kind::list:
        list(t);
        break;
      case Kind::binary: {
        std::string_view bytes = t.as_binary();
        unsigned bits = t.bits_in_last_byte();
        byte(bits == 8 ? BINARY_EXT : BIT_BINARY_EXT);
        u32(static_cast<std::uint32_t>(bytes.size()));
        if (bits != 8) byte(static_cast<std::uint8_t>(bits));
        raw(bytes);
        break;
      }
    }
  }

 private:
  // room() is the place for the next n bytes. out_ grows ahead of what is written (len_) and is cut to it
  // at the end, so a byte costs a store, not a call.
  [[gnu::always_inline]] char* room(std::size_t n) {
    if (out_.size() - len_ < n) [[unlikely]]
      grow(n);
    char* p = out_.data() + len_;
    len_ += n;
    return p;
  }
  [[gnu::noinline]] void grow(std::size_t n) { out_.resize(std::max(out_.size() * 2, len_ + n + 64)); }
  void byte(std::uint8_t b) { *room(1) = static_cast<char>(b); }
  void u16(std::uint16_t v) {
    char* p = room(2);
    p[0] = static_cast<char>(v >> 8);
    p[1] = static_cast<char>(v);
  }
  void u32(std::uint32_t v) {
    char* p = room(4);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (24 - 8 * i));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  // raw() copies bytes; a large block is appended directly, so it is not zero-filled by room() first.
  void raw(std::string_view bytes) {
    if (bytes.size() <= 256) {
      if (!bytes.empty()) std::memcpy(room(bytes.size()), bytes.data(), bytes.size());  // data() may be null
      return;
    }
    out_.resize(len_);
    out_.append(bytes);
    len_ = out_.size();
  }

  void integer(std::int64_t i) {
    if (i >= 0 && i <= 255) {
      byte(SMALL_INTEGER_EXT);
      byte(static_cast<std::uint8_t>(i));
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
      byte(INTEGER_EXT);
      u32(static_cast<std::uint32_t>(i));
    } else {
      auto magnitude = vm::detail::magnitude_of(i);
      big(i < 0, magnitude);
    }
  }

  void big(bool negative, std::span<const std::uint8_t> magnitude) {
    if (magnitude.size() <= 255) {
      byte(SMALL_BIG_EXT);
      byte(static_cast<std::uint8_t>(magnitude.size()));
    } else {
      byte(LARGE_BIG_EXT);
      u32(static_cast<std::uint32_t>(magnitude.size()));
    }
    byte(negative ? 1 : 0);
    raw(std::string_view(reinterpret_cast<const char*>(magnitude.data()), magnitude.size()));
  }

  void atom(std::string_view name) {
    if (name.size() <= 255) {
      byte(SMALL_ATOM_UTF8_EXT);
      byte(static_cast<std::uint8_t>(name.size()));
    } else if (name.size() <= 65535) {
      byte(ATOM_UTF8_EXT);
      u16(static_cast<std::uint16_t>(name.size()));
    } else {
      throw std::length_error("dist::encode: an atom of more than 65535 bytes has no encoding");
    }
    raw(name);
  }

  // node() writes the name of the node in `slot` and is its creation.
  std::uint32_t node(std::uint32_t slot) {
    if (const vm::detail::NodeIdentity* id = vm::detail::node_identity(slot)) {
      atom(id->name.atom_name());
      return id->creation;
    }
    atom(kNoNode);  // a node slot given back since: no name to give
    return 0;
  }

  void fun(const vm::Fun& f) {
    if (f.exported) {
      byte(EXPORT_EXT);
      atom(f.module.atom_name());
      atom(f.function.atom_name());
      byte(SMALL_INTEGER_EXT);
      byte(static_cast<std::uint8_t>(f.arity));
    } else {
      byte(NEW_FUN_EXT);
      raw(f.encoding);
    }
  }

  void list(const Term& t) {
    auto items = t.elements();
    if (items.empty()) {
      byte(NIL_EXT);
      return;
    }
    bool bytes = t.tail().is_nil() && items.size() <= 65535;
    for (std::size_t i = 0; bytes && i < items.size(); ++i)
      bytes = items[i].kind() == Kind::integer && items[i].as_integer() >= 0 && items[i].as_integer() <= 255;
    if (bytes) {
      byte(STRING_EXT);
      u16(static_cast<std::uint16_t>(items.size()));
      for (const Term& c : items) byte(static_cast<std::uint8_t>(c.as_integer()));
      return;
    }
    byte(LIST_EXT);
    u32(static_cast<std::uint32_t>(items.size()));
    for (const Term& e : items) term(e);
    if (t.tail().is_nil())
      byte(NIL_EXT);
    else
      term(t.tail());
  }

  std::string& out_;
  std::size_t len_;  // bytes written; out_ may be longer
};

// compress() is `encoded` (version byte first) as tag 80, or nothing when that is not smaller.
std::string compress(const std::string& encoded, int level) {
  const std::string_view body(encoded.data() + 1, encoded.size() - 1);
  uLongf capacity = compressBound(static_cast<uLong>(body.size()));
  std::string out(6 + capacity, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data() + 6), &capacity,
                reinterpret_cast<const Bytef*>(body.data()), static_cast<uLong>(body.size()),
                level) != Z_OK ||
      6 + capacity >= encoded.size())
    return {};
  out.resize(6 + capacity);
  out[0] = static_cast<char>(kVersion);
  out[1] = static_cast<char>(COMPRESSED);
  for (int i = 0; i < 4; ++i) out[2 + i] = static_cast<char>(body.size() >> (24 - 8 * i));
  return out;
}

}  // namespace

std::string encode(const vm::Term& term, EncodeOptions options) {
  std::string out(1, static_cast<char>(kVersion));
  Encoder(out).term(term);
  if (options.compress > 0)
    if (std::string smaller = compress(out, std::min(options.compress, 9)); !smaller.empty()) return smaller;
  return out;
}

}  // namespace myrmex::dist
