// ETF decoding. Input is hostile until proven otherwise: every length is checked against what is left
// before anything is sized by it, so an allocation is never larger than a small multiple of the input.
#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dist/detail/etf_tags.h"
#include "dist/etf.h"
#include "vm/detail/node_slots.h"
#include "vm/detail/term_box.h"
#include "vm/detail/utf8.h"

namespace myrmex::dist {

namespace {

using namespace detail;
using vm::Term;
using Kind = DecodeError::Kind;

// kMaxInflateRatio bounds what a compressed term may claim: zlib's deflate cannot shrink data more than
// about 1032:1, so a header that claims more is lying, and is refused before any buffer is sized by it.
constexpr std::size_t kMaxInflateRatio = 1032;

// Failure carries a DecodeError out of the recursion (a plain return value through every level would
// cost a branch per byte read; errors are the exception here, in both senses).
struct Failure {
  DecodeError error;
};

class Decoder {
 public:
  Decoder(std::string_view input, DecodeOptions options)
      : begin_(reinterpret_cast<const std::uint8_t*>(input.data())),
        pos_(begin_),
        end_(begin_ + input.size()),
        options_(options) {}

  Term term() {
    const std::uint8_t* at = pos_;
    std::uint8_t tag = u8();
    switch (tag) {
      case SMALL_INTEGER_EXT:
        return Term(std::int64_t{u8()});
      case INTEGER_EXT:
        return Term(std::int64_t{static_cast<std::int32_t>(u32())});
      case SMALL_BIG_EXT:
        return big(u8());
      case LARGE_BIG_EXT:
        return big(u32());
      case NEW_FLOAT_EXT: {
        std::uint64_t bits = u64();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return finite(d, at);
      }
      case FLOAT_EXT:
        return old_float(at);
      case ATOM_EXT:
      case SMALL_ATOM_EXT:
      case ATOM_UTF8_EXT:
      case SMALL_ATOM_UTF8_EXT:
        return atom_body(tag, at);
      case SMALL_TUPLE_EXT:
        return tuple(u8(), at + 1);
      case LARGE_TUPLE_EXT:
        return tuple(u32(), at + 1);
      case NIL_EXT:
        return Term::nil();
      case STRING_EXT:
        return string(u16());
      case LIST_EXT:
        return list(u32(), at + 1);
      case BINARY_EXT: {
        std::uint32_t n = u32();
        return Term::binary(bytes(n, "binary"));
      }
      case BIT_BINARY_EXT:
        return bit_binary();
      case MAP_EXT:
        return map(u32(), at + 1);
      case NEW_PID_EXT:
      case PID_EXT:
        return pid(tag == NEW_PID_EXT);
      case NEW_PORT_EXT:
      case V4_PORT_EXT:
      case PORT_EXT:
        return port(tag);
      case NEWER_REFERENCE_EXT:
      case NEW_REFERENCE_EXT:
        return reference(tag == NEWER_REFERENCE_EXT);
      case REFERENCE_EXT:
        return old_reference(at);
      case EXPORT_EXT:
        return export_fun(at);
      case NEW_FUN_EXT:
        return new_fun(at);
      case FUN_EXT:
        fail(Kind::unknown_tag, at, "FUN_EXT (117) is not read since OTP 23");
      case ATOM_CACHE_REF:
        fail(Kind::unknown_tag, at, "ATOM_CACHE_REF (82) outside a distribution header");
      case LOCAL_EXT:
        fail(Kind::unknown_tag, at, "LOCAL_EXT (121) is only meaningful to the node that wrote it");
      case COMPRESSED:
        fail(Kind::unknown_tag, at, "a compressed term (80) inside a term");
      default:
        fail(Kind::unknown_tag, at, "unknown tag %u", tag);
    }
  }

  bool at_end() const { return pos_ == end_; }
  std::size_t offset() const { return static_cast<std::size_t>(pos_ - begin_); }
  std::size_t left() const { return static_cast<std::size_t>(end_ - pos_); }

  // fail() is out of line and takes only scalars, so that no frame of the recursion holds a string.
  [[noreturn, gnu::cold, gnu::noinline, gnu::format(printf, 4, 5)]] void fail(Kind kind,
                                                                              const std::uint8_t* at,
                                                                              const char* format, ...) const {
    char message[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(message, sizeof message, format, args);
    va_end(args);
    throw Failure{DecodeError{kind, static_cast<std::size_t>(at - begin_), message}};
  }

  std::uint8_t u8() {
    need(1, "a tag or byte");
    return *pos_++;
  }
  std::uint16_t u16() {
    need(2, "a 2-byte field");
    std::uint16_t v = static_cast<std::uint16_t>(pos_[0] << 8 | pos_[1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    need(4, "a 4-byte field");
    std::uint32_t v = std::uint32_t{pos_[0]} << 24 | std::uint32_t{pos_[1]} << 16 |
                      std::uint32_t{pos_[2]} << 8 | std::uint32_t{pos_[3]};
    pos_ += 4;
    return v;
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (left() < n) fail(Kind::truncated, pos_, "%s needs %zu bytes, %zu left", what, n, left());
  }

  // need_items() checks a count of items that take at least `min_bytes` each against what is left.
  void need_items(std::uint64_t count, std::size_t min_bytes, const char* what,
                  const std::uint8_t* field) const {
    if (count > left() / min_bytes)
      fail(Kind::truncated, field, "%s of %llu items, but only %zu bytes are left", what,
           static_cast<unsigned long long>(count), left());
  }

  std::uint64_t u64() {
    std::uint64_t high = u32();
    return high << 32 | u32();
  }

  std::string_view bytes(std::size_t n, const char* what) {
    need(n, what);
    std::string_view v(reinterpret_cast<const char*>(pos_), n);
    pos_ += n;
    return v;
  }

  // Depth counts the containers open around the term being read.
  struct Nested {
    Nested(Decoder& d, const std::uint8_t* at) : d_(d) {
      if (++d_.depth_ > d_.options_.max_depth)
        d_.fail(Kind::too_deep, at, "nesting deeper than %u", d_.options_.max_depth);
    }
    ~Nested() { --d_.depth_; }
    Decoder& d_;
  };

  [[gnu::noinline]] Term finite(double d, const std::uint8_t* at) const {
    if (!std::isfinite(d)) fail(Kind::bad_value, at, "a float that is not finite");
    return Term(d);
  }

  [[gnu::noinline]] Term old_float(const std::uint8_t* at) {
    // 31 bytes of "%.20e" text, NUL-padded: read as OTP does, a plain decimal float (no spaces, no hex,
    // whatever the C locale).
    std::string_view text = bytes(31, "FLOAT_EXT");
    text = text.substr(0, text.find('\0'));
    double d = 0;
    auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), d, std::chars_format::general);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      fail(Kind::bad_value, at, "FLOAT_EXT text is not a float");
    return finite(d, at);
  }

  [[gnu::noinline]] Term big(std::uint32_t n) {
    std::uint8_t sign = u8();
    if (sign > 1) fail(Kind::bad_value, pos_ - 1, "bignum sign byte %u", sign);
    std::string_view digits = bytes(n, "bignum digits");
    return Term::integer(sign == 1, std::span(reinterpret_cast<const std::uint8_t*>(digits.data()), n));
  }

  // valid_utf8() checks well-formed UTF-8 and counts its code points.
  static bool valid_utf8(std::string_view s, std::size_t& code_points) {
    code_points = 0;
    for (std::size_t i = 0, length; i < s.size(); i += length, ++code_points) {
      std::uint32_t cp;
      if ((length = vm::detail::next_code_point(s, i, cp)) == 0) return false;
    }
    return true;
  }

  [[gnu::noinline]] Term atom_body(std::uint8_t tag, const std::uint8_t* at) {
    std::size_t n = tag == ATOM_EXT || tag == ATOM_UTF8_EXT ? u16() : u8();
    std::string_view name = bytes(n, "atom text");
    if (tag == ATOM_EXT || tag == SMALL_ATOM_EXT) {  // Latin-1
      if (n > 255) fail(Kind::bad_atom, at, "an atom of %zu characters (at most 255)", n);
      std::string utf8;
      for (char c : name) vm::detail::append_utf8(utf8, static_cast<unsigned char>(c));
      return Term::atom(utf8);
    }
    // Terms repeat their atoms (record tags, keys, ok): a hit skips validation and the atom table.
    const std::size_t slot =
        n ? (n ^ static_cast<unsigned char>(name[0]) ^ static_cast<unsigned char>(name[n - 1]) << 3) %
                std::size(atom_cache_)
          : 0;
    CachedAtom& cached = atom_cache_[slot];
    if (cached.valid && cached.atom.atom_name() == name) return cached.atom;
    std::size_t code_points;
    if (!valid_utf8(name, code_points)) fail(Kind::bad_atom, at, "an atom that is not valid UTF-8");
    if (code_points > 255) fail(Kind::bad_atom, at, "an atom of %zu characters (at most 255)", code_points);
    cached = CachedAtom{Term::atom(name), true};
    return cached.atom;
  }

  // atom() reads a term that must be an atom (a node name, a module).
  Term atom() {
    const std::uint8_t* at = pos_;
    std::uint8_t tag = u8();
    if (tag != ATOM_EXT && tag != SMALL_ATOM_EXT && tag != ATOM_UTF8_EXT && tag != SMALL_ATOM_UTF8_EXT)
      fail(Kind::bad_atom, at, "expected an atom, found tag %u", tag);
    return atom_body(tag, at);
  }

  std::uint32_t slot(const Term& node, std::uint32_t creation, const std::uint8_t* at) const {
    std::uint32_t s = vm::detail::slot_of_node(node, creation);
    if (s == 0)
      fail(Kind::node_table_full, at, "no node slot left for %.*s", static_cast<int>(node.atom_name().size()),
           node.atom_name().data());
    return s;
  }

  template <class Box>
  Term sequence(Box* box, Term::Kind kind) {
    std::uint32_t n = box->size;
    Term* items = box->items();
    std::uint32_t i = 0;
    try {
      for (; i < n; ++i) new (&items[i]) Term(term());
    } catch (...) {
      // Fill the rest with atoms (no allocation), so the box is whole and frees as one of its size.
      for (; i < n; ++i) new (&items[i]) Term();
      vm::detail::TermBox::destroy(box);
      throw;
    }
    return vm::detail::TermBox::wrap(kind, box);
  }

  [[gnu::noinline]] Term tuple(std::uint32_t n, const std::uint8_t* count_at) {
    if (n == 0) return Term::tuple({});
    need_items(n, 1, "a tuple", count_at);
    Nested nested(*this, count_at - 1);
    auto* box = vm::detail::make_box<vm::detail::TupleBox>(Term::Kind::tuple, n, n * sizeof(Term));
    return sequence(box, Term::Kind::tuple);
  }

  [[gnu::noinline]] Term string(std::uint16_t n) {
    std::string_view chars = bytes(n, "STRING_EXT");
    if (n == 0) return Term::nil();
    auto* box = vm::detail::make_box<vm::detail::ListBox>(Term::Kind::list, n, n * sizeof(Term));
    box->tail = Term::nil();
    for (std::uint32_t i = 0; i < n; ++i)
      new (&box->items()[i]) Term(std::int64_t{static_cast<unsigned char>(chars[i])});
    return vm::detail::TermBox::wrap(Term::Kind::list, box);
  }

  [[gnu::noinline]] Term list(std::uint32_t n, const std::uint8_t* count_at) {
    need_items(n, 1, "a list", count_at);
    Nested nested(*this, count_at - 1);
    if (n == 0) return term();  // [ | T] is T
    auto* box = vm::detail::make_box<vm::detail::ListBox>(Term::Kind::list, n, n * sizeof(Term));
    box->tail = Term::nil();
    Term head = sequence(box, Term::Kind::list);
    Term tail = term();  // NIL_EXT for a proper list
    if (tail.is_nil()) return head;
    if (tail.kind() == Term::Kind::list) {  // [a | [b]] written by hand: splice, as Term::list does
      auto items = head.elements();
      return Term::list(std::vector<Term>(items.begin(), items.end()), std::move(tail));
    }
    box->tail = std::move(tail);  // still the only owner of the box
    return head;
  }

  [[gnu::noinline]] Term bit_binary() {
    std::uint32_t n = u32();
    const std::uint8_t* bits_at = pos_;
    std::uint8_t bits = u8();
    std::string_view data = bytes(n, "bitstring");
    if (n == 0) {
      if (bits != 0 && bits != 8) fail(Kind::bad_value, bits_at, "an empty bitstring with %u bits", bits);
      return Term::binary({});
    }
    if (bits < 1 || bits > 8)
      fail(Kind::bad_value, bits_at, "a bitstring's last byte with %u bits (1..8)", bits);
    return Term::bitstring(data, bits);
  }

  [[gnu::noinline]] Term map(std::uint32_t n, const std::uint8_t* count_at) {
    need_items(n, 2, "a map", count_at);
    Nested nested(*this, count_at - 1);
    std::vector<std::pair<Term, Term>> entries;
    entries.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      Term key = term();
      Term value = term();
      entries.emplace_back(std::move(key), std::move(value));
    }
    Term m = Term::map(std::move(entries));
    if (m.map_entries().size() != n) fail(Kind::bad_value, count_at - 1, "a map with a repeated key");
    return m;
  }

  [[gnu::noinline]] Term pid(bool new_form) {
    const std::uint8_t* at = pos_;
    Term node = atom();
    std::uint32_t id = u32();
    std::uint32_t serial = u32();
    std::uint32_t creation = new_form ? u32() : u8();
    if (id >> vm::Pid::kIndexBits || serial >> vm::Pid::kGenerationBits)
      fail(Kind::bad_value, at, "a pid <%u.%u> beyond 28 bits of number and 24 of serial", id, serial);
    return Term(vm::Pid::make(slot(node, creation, at), id, serial));
  }

  [[gnu::noinline]] Term port(std::uint8_t tag) {
    const std::uint8_t* at = pos_;
    Term node = atom();
    std::uint64_t id = tag == V4_PORT_EXT ? u64() : u32();
    std::uint32_t creation = tag == PORT_EXT ? u8() : u32();
    return Term::port(slot(node, creation, at), id);
  }

  [[gnu::noinline]] Term reference(bool newer) {
    const std::uint8_t* at = pos_;
    std::uint16_t n = u16();
    if (n < 1 || n > 5) fail(Kind::bad_value, at, "a reference of %u words (1..5)", n);
    Term node = atom();
    std::uint32_t creation = newer ? u32() : u8();
    std::uint32_t ids[5];
    for (std::uint16_t i = 0; i < n; ++i) ids[i] = u32();
    return Term::reference(slot(node, creation, at), std::span(ids, n));
  }

  [[gnu::noinline]] Term old_reference(const std::uint8_t* at) {
    Term name = atom();
    std::uint32_t id = u32();
    std::uint32_t creation = u8();
    return Term::reference(slot(name, creation, at), std::span(&id, 1));
  }

  // small_integer() reads an integer term that must fit `limit` (an arity, an index).
  std::uint32_t small_integer(const char* what, std::uint64_t limit) {
    const std::uint8_t* at = pos_;
    Term t = term();
    if (t.kind() != Term::Kind::integer || t.as_integer() < 0 ||
        static_cast<std::uint64_t>(t.as_integer()) > limit)
      fail(Kind::bad_value, at, "%s must be an integer in 0..%llu", what,
           static_cast<unsigned long long>(limit));
    return static_cast<std::uint32_t>(t.as_integer());
  }

  [[gnu::noinline]] Term export_fun(const std::uint8_t* at) {
    vm::Fun f;
    f.exported = true;
    f.module = atom();
    f.function = atom();
    if (pos_ < end_ && *pos_ != SMALL_INTEGER_EXT)
      fail(Kind::bad_value, pos_, "an export fun's arity must be SMALL_INTEGER_EXT");
    f.arity = small_integer("an export fun's arity", 255);
    (void)at;
    return Term::fun(std::move(f));
  }

  [[gnu::noinline]] Term new_fun(const std::uint8_t* at) {
    const std::uint8_t* body = pos_;
    std::uint32_t size = u32();  // counts itself
    if (size < 4 || size - 4 > left())
      fail(Kind::truncated, body, "NEW_FUN_EXT of %u bytes, %zu left", size, left() + 4);
    const std::uint8_t* end = body + size;
    Nested nested(*this, at);
    vm::Fun f;
    f.arity = u8();
    bytes(16, "a fun's Uniq");
    std::uint32_t index = u32();
    std::uint32_t free_count = u32();
    (void)index;
    f.module = atom();
    f.index = small_integer("a fun's OldIndex", UINT32_MAX);
    f.uniq = small_integer("a fun's OldUniq", UINT32_MAX);
    const std::uint8_t* pid_at = pos_;
    if (term().kind() != Term::Kind::pid) fail(Kind::bad_value, pid_at, "a fun's Pid must be a pid");
    need_items(free_count, 1, "a fun's free variables", pos_);
    for (std::uint32_t i = 0; i < free_count; ++i) term();
    if (pos_ != end) fail(Kind::bad_value, at, "NEW_FUN_EXT's size does not match its contents");
    f.encoding.assign(reinterpret_cast<const char*>(body), size);
    return Term::fun(std::move(f));
  }

  struct CachedAtom {
    Term atom;
    bool valid = false;  // set once `atom` holds a decoded atom
  };

  CachedAtom atom_cache_[16];
  const std::uint8_t* begin_;
  const std::uint8_t* pos_;
  const std::uint8_t* end_;
  DecodeOptions options_;
  unsigned depth_ = 0;
};

// inflate_term() is the term inside a compressed one (after 131, 80).
Term inflate_term(Decoder& outer, std::string_view rest, DecodeOptions options) {
  std::uint32_t size = outer.u32();
  std::string_view data = rest.substr(4);
  const auto* size_at = reinterpret_cast<const std::uint8_t*>(rest.data());
  if (size > options.max_inflated)
    outer.fail(Kind::bad_compression, size_at, "inflates to %u bytes, more than max_inflated (%zu)", size,
               options.max_inflated);
  if (size > data.size() * kMaxInflateRatio + 64)
    outer.fail(Kind::bad_compression, size_at,
               "claims %u bytes inflated from %zu (more than zlib can compress)", size, data.size());
  std::string inflated;
  inflated.resize(size);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) outer.fail(Kind::bad_compression, size_at, "zlib could not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(inflated.data());
  z.avail_out = size;
  int status = inflate(&z, Z_FINISH);
  std::size_t produced = size - z.avail_out;
  std::size_t unread = z.avail_in;
  const char* zlib_message = z.msg ? z.msg : "corrupt data";  // a static string of zlib's
  inflateEnd(&z);
  if ((status == Z_BUF_ERROR || status == Z_OK) && produced == size)
    outer.fail(Kind::bad_compression, size_at, "inflates to more than the %u bytes claimed", size);
  if (status == Z_BUF_ERROR || status == Z_OK)
    outer.fail(Kind::bad_compression, size_at, "the compressed data ends after %zu of %u bytes", produced,
               size);
  if (status != Z_STREAM_END) outer.fail(Kind::bad_compression, size_at, "zlib: %s", zlib_message);
  if (produced != size)
    outer.fail(Kind::bad_compression, size_at, "inflates to %zu bytes, not the %u claimed", produced, size);
  if (unread) outer.fail(Kind::trailing_bytes, size_at, "%zu bytes after the compressed term", unread);
  // An error inside is reported at the compressed data in the input, with its offset in the inflated term.
  const std::size_t data_offset = outer.offset();
  Decoder inner(inflated, options);
  try {
    Term t = inner.term();
    if (!inner.at_end())
      inner.fail(Kind::trailing_bytes,
                 reinterpret_cast<const std::uint8_t*>(inflated.data()) + inner.offset(),
                 "%zu bytes after the term", inner.left());
    return t;
  } catch (Failure& f) {
    f.error.message = "in the compressed term, at offset " + std::to_string(f.error.offset) + " of the " +
                      std::to_string(size) + " inflated bytes: " + f.error.message;
    f.error.offset = data_offset;
    throw;
  }
}

}  // namespace

vm::Expected<vm::Term, DecodeError> decode(std::string_view bytes, DecodeOptions options) {
  Decoder d(bytes, options);
  try {
    if (d.u8() != kVersion)
      return vm::unexpected(DecodeError{Kind::bad_version, 0, "the first byte must be 131"});
    if (!bytes.empty() && bytes.size() > 1 && static_cast<std::uint8_t>(bytes[1]) == COMPRESSED) {
      d.u8();
      return inflate_term(d, bytes.substr(2), options);
    }
    Term t = d.term();
    if (!d.at_end())
      return vm::unexpected(
          DecodeError{Kind::trailing_bytes, d.offset(), std::to_string(d.left()) + " bytes after the term"});
    return t;
  } catch (Failure& f) {
    return vm::unexpected(std::move(f.error));
  }
}

}  // namespace myrmex::dist
