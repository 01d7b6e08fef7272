#include "dist/codec.h"

#include "vm/detail/utf8.h"

namespace myrmex::detail {

CodecError mismatch(std::string_view expected, const vm::Term& got) {
  return CodecError{"expected " + std::string(expected) + ", got " + got.to_string()};
}

std::optional<std::int64_t> signed_in_range(const vm::Term& t, std::int64_t min, std::int64_t max) {
  if (t.kind() != vm::Term::Kind::integer || t.as_integer() < min || t.as_integer() > max)
    return std::nullopt;
  return t.as_integer();
}

std::optional<std::uint64_t> unsigned_in_range(const vm::Term& t, std::uint64_t max) {
  std::uint64_t v;
  if (t.kind() == vm::Term::Kind::integer && t.as_integer() >= 0) {
    v = static_cast<std::uint64_t>(t.as_integer());
  } else if (t.kind() == vm::Term::Kind::bignum && !t.bignum_negative() && t.bignum_magnitude().size() <= 8) {
    v = 0;
    auto m = t.bignum_magnitude();
    for (std::size_t i = m.size(); i-- > 0;) v = v << 8 | m[i];
  } else {
    return std::nullopt;
  }
  if (v > max) return std::nullopt;
  return v;
}

vm::Term unsigned_term(std::uint64_t v) {
  if (v <= static_cast<std::uint64_t>(INT64_MAX)) return vm::Term(static_cast<std::int64_t>(v));
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(v >> (8 * i));
  return vm::Term::integer(false, bytes);
}

std::optional<std::string> utf8_of_string_list(const vm::Term& t) {
  if (t.kind() != vm::Term::Kind::list || !t.tail().is_nil()) return std::nullopt;
  std::string out;
  for (const vm::Term& c : t.elements()) {
    if (c.kind() != vm::Term::Kind::integer) return std::nullopt;
    std::int64_t cp = c.as_integer();
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    vm::detail::append_utf8(out, static_cast<std::uint32_t>(cp));
  }
  return out;
}

}  // namespace myrmex::detail
