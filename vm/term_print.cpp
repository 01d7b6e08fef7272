// Term::to_string(): Erlang syntax, as io_lib:format("~p") prints it on one line.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "vm/detail/bignum.h"
#include "vm/detail/utf8.h"
#include "vm/term.h"

namespace myrmex::vm {

namespace {

using Kind = Term::Kind;

void append(std::string& out, const Term& t);

// escape() is the escape Erlang writes for a character inside quotes, or nullptr.
const char* escape(std::uint32_t c, char quote) {
  switch (c) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\v':
      return "\\v";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case 27:
      return "\\e";
    case '\\':
      return "\\\\";
    default:
      break;
  }
  if (c == static_cast<std::uint32_t>(quote)) return quote == '"' ? "\\\"" : "\\'";
  return nullptr;
}

// printable() is io_lib's printable Latin-1 set, the characters ~p prints inside a string.
bool printable(std::int64_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || c == '\n' || c == '\r' || c == '\t' ||
         c == '\v' || c == '\b' || c == '\f' || c == 27;
}

void append_quoted_char(std::string& out, std::uint32_t c, char quote) {
  if (const char* e = escape(c, quote))
    out += e;
  else
    detail::append_utf8(out, c);
}

bool reserved_word(std::string_view name) {
  static constexpr std::string_view kWords[] = {
      "after", "and",  "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr",
      "bxor",  "case", "catch",   "cond",   "div",     "end",  "fun", "if",   "let",
      "not",   "of",   "or",      "orelse", "receive", "rem",  "try", "when", "xor"};
  for (std::string_view w : kWords)
    if (name == w) return true;
  return false;
}

// needs_quotes() tells whether an atom must be written 'quoted': unless it is a lowercase letter followed
// by letters, digits, _ and @, and not a reserved word.
bool needs_quotes(std::string_view name) {
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return true;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@'))
      return true;
  return reserved_word(name);
}

void append_atom(std::string& out, std::string_view name) {
  if (!needs_quotes(name)) {
    out += name;
    return;
  }
  out += '\'';
  for (char c : name) {
    if (const char* e = escape(static_cast<unsigned char>(c), '\''))
      out += e;
    else
      out += c;  // the name is UTF-8 already
  }
  out += '\'';
}

// append_float() writes the shortest digits that read back as the same double, placed as Erlang's
// io_lib_format places them: fixed notation while it is no longer than the exponent form (and below
// 2^53), else d.ddde±x. 0.1, 100.0, 1.0e10, 1.0e-5, 1.2345678901234567e19.
[[gnu::noinline]] void append_float(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += std::isnan(d) ? "nan" : d < 0 ? "-inf" : "inf";  // no Erlang float is; printed for debugging
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);  // -d.ddde+xx
  if (sci[0] == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  std::size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at))
    if (c != '.') digits += c;
  int exponent = std::atoi(std::string(sci.substr(e_at + 1)).c_str());
  if (digits == "0") {
    out += "0.0";
    return;
  }
  const int length = static_cast<int>(digits.size());
  const int place = exponent + 1;  // the value is 0.<digits> * 10^place
  auto exp_form = [&] {
    out += digits[0];
    out += '.';
    out += length == 1 ? std::string("0") : digits.substr(1);
    out += 'e';
    out += std::to_string(exponent);
  };
  if (place == 0) {
    out += "0." + digits;
  } else if (place < 0 || place >= length) {
    const int exp_cost = static_cast<int>(std::to_string(place - 1).size()) + 1 + (length == 1 ? 2 : 1);
    if (place < 0) {
      if (2 - place <= exp_cost)
        out += "0." + std::string(-place, '0') + digits;
      else
        exp_form();
    } else if (place - length + 2 <= exp_cost && std::fabs(d) < 9007199254740992.0) {
      out += digits + std::string(place - length, '0') + ".0";
    } else {
      exp_form();
    }
  } else {
    out += digits.substr(0, place) + "." + digits.substr(place);
  }
}

[[gnu::noinline]] void append_binary(std::string& out, const Term& t) {
  std::string_view bytes = t.as_binary();
  unsigned bits = t.bits_in_last_byte();
  std::string_view whole = bits == 8 ? bytes : bytes.substr(0, bytes.size() - 1);
  bool text = !whole.empty();
  for (char c : whole) text = text && printable(static_cast<unsigned char>(c));
  out += "<<";
  if (text) {
    out += '"';
    for (char c : whole) append_quoted_char(out, static_cast<unsigned char>(c), '"');
    out += '"';
  } else {
    for (std::size_t i = 0; i < whole.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(static_cast<unsigned char>(whole[i]));
    }
  }
  if (bits != 8) {
    if (!whole.empty()) out += ',';
    out +=
        std::to_string(static_cast<unsigned char>(bytes.back()) >> (8 - bits)) + ":" + std::to_string(bits);
  }
  out += ">>";
}

void append_list(std::string& out, const Term& t) {
  auto items = t.elements();
  bool text = !items.empty() && t.tail().is_nil();
  for (const Term& c : items) text = text && c.kind() == Kind::integer && printable(c.as_integer());
  if (text) {
    out += '"';
    for (const Term& c : items) append_quoted_char(out, static_cast<std::uint32_t>(c.as_integer()), '"');
    out += '"';
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append(out, items[i]);
  }
  if (!t.tail().is_nil()) {
    out += '|';
    append(out, t.tail());
  }
  out += ']';
}

// The kinds below print with temporaries; out of line, they keep them out of the frame that recurses.
[[gnu::noinline]] void append_bignum(std::string& out, const Term& t) {
  if (t.bignum_negative()) out += '-';
  out += detail::to_decimal(t.bignum_magnitude());
}

[[gnu::noinline]] void append_opaque(std::string& out, const Term& t) {
  if (t.kind() == Kind::reference) {
    out += "#Ref<" + std::to_string(t.node_slot());
    auto ids = t.reference_ids();
    for (std::size_t i = ids.size(); i-- > 0;) out += "." + std::to_string(ids[i]);
    out += '>';
  } else if (t.kind() == Kind::port) {
    out += "#Port<" + std::to_string(t.node_slot()) + "." + std::to_string(t.port_id()) + ">";
  } else if (const Fun& f = t.as_fun(); f.exported) {
    out += "fun ";
    append_atom(out, f.module.atom_name());
    out += ':';
    append_atom(out, f.function.atom_name());
    out += '/' + std::to_string(f.arity);
  } else {
    out += "#Fun<" + std::string(f.module.atom_name()) + "." + std::to_string(f.index) + "." +
           std::to_string(f.uniq) + ">";
  }
}

void append(std::string& out, const Term& t) {
  switch (t.kind()) {
    case Kind::integer:
      out += std::to_string(t.as_integer());
      break;
    case Kind::bignum:
      append_bignum(out, t);
      break;
    case Kind::floating:
      append_float(out, t.as_float());
      break;
    case Kind::atom:
      append_atom(out, t.atom_name());
      break;
    case Kind::reference:
    case Kind::fun:
    case Kind::port:
      append_opaque(out, t);
      break;
    case Kind::pid:
      out += t.as_pid().to_string();
      break;
    case Kind::tuple: {
      out += '{';
      auto items = t.elements();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        append(out, items[i]);
      }
      out += '}';
      break;
    }
    case Kind::map: {
      out += "#{";
      auto entries = t.map_entries();
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i) out += ',';
        append(out, entries[i].key);
        out += " => ";
        append(out, entries[i].value);
      }
      out += '}';
      break;
    }
    case Kind::list:
      append_list(out, t);
      break;
    case Kind::binary:
      append_binary(out, t);
      break;
  }
}

}  // namespace

std::string Pid::to_string() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "<%u.%u.%u>", node(), index(), generation());
  return buf;
}

std::string Term::to_string() const {
  std::string out;
  append(out, *this);
  return out;
}

}  // namespace myrmex::vm
