// Term::to_string(): Erlang syntax, as io_lib:format("~p") prints it on one line.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "vm/detail/bignum.h"
#include "vm/detail/term_syntax.h"
#include "vm/term.h"

namespace myrmex::vm {

namespace {

using Kind = Term::Kind;

void append(std::string& out, const Term& t);

// append_quoted_char() appends character `c` as Erlang writes it inside `quote`s: an escape where it has
// one, else the character itself in UTF-8.
void append_quoted_char(std::string& out, std::uint32_t c, char quote) {
  if (c == static_cast<std::uint32_t>(quote) || c == '\\') {
    out += '\\';
    out += static_cast<char>(c);
    return;
  }
  for (const detail::Escape& e : detail::kEscapes) {
    if (e.code_point == c) {
      out += '\\';
      out += e.letter;
      return;
    }
  }
  detail::append_utf8(out, c);
}

// printable() is io_lib's printable Latin-1 set, the characters ~p prints inside a string.
bool printable(std::int64_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || c == '\n' || c == '\r' || c == '\t' ||
         c == '\v' || c == '\b' || c == '\f' || c == 27;
}

// code_points() are the characters of UTF-8 `name` (bytes that are not UTF-8 stand for themselves).
std::vector<std::uint32_t> code_points(std::string_view name) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < name.size();) {
    std::uint32_t cp;
    i += detail::next_char(name, i, cp);
    out.push_back(cp);
  }
  return out;
}

// needs_quotes() tells whether an atom must be written 'quoted': unless it is a lowercase letter followed
// by letters, digits, _ and @, and not a reserved word.
bool needs_quotes(std::string_view name, const std::vector<std::uint32_t>& chars) {
  if (chars.empty() || !detail::atom_start(chars[0])) return true;
  for (std::uint32_t c : chars)
    if (!detail::atom_char(c)) return true;
  return detail::reserved_word(name);
}

// append_atom() writes an atom as ~p does: Latin-1 characters as themselves (in UTF-8) or escaped, other
// control characters in octal (\001), and characters beyond Latin-1 as \x{3B1}.
void append_atom(std::string& out, std::string_view name) {
  std::vector<std::uint32_t> chars = code_points(name);
  if (!needs_quotes(name, chars)) {
    out += name;
    return;
  }
  out += '\'';
  for (std::uint32_t c : chars) {
    char buf[16];
    if (printable(c) || c == 127) {
      append_quoted_char(out, c, '\'');
    } else if (c < 256) {
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(c));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\x{%X}", static_cast<unsigned>(c));
      out += buf;
    }
  }
  out += '\'';
}

// append_float() writes the shortest digits that read back as the same double, placed as Erlang's
// io_lib_format places them: fixed notation while it is no longer than the exponent form (and below
// 2^53), else d.ddde±x. 0.1, 100.0, 1.0e10, 1.0e-5, 1.2345678901234567e19.
void append_float(std::string& out, double d) {
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

void append_binary(std::string& out, const Term& t) {
  std::string_view bytes = t.as_binary();
  unsigned bits = t.bits_in_last_byte();
  std::string_view whole = bits == 8 ? bytes : bytes.substr(0, bytes.size() - 1);
  bool text = bits == 8 && !whole.empty();  // ~p writes a bitstring's bytes as numbers, printable or not
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

// append_leaf() writes a term that holds no terms to print (every kind but tuples, lists and maps).
[[gnu::noinline]] void append_leaf(std::string& out, const Term& t) {
  switch (t.kind()) {
    case Kind::integer:
      out += std::to_string(t.as_integer());
      break;
    case Kind::bignum:
      if (t.bignum_negative()) out += '-';
      out += detail::to_decimal(t.bignum_magnitude());
      break;
    case Kind::floating:
      append_float(out, t.as_float());
      break;
    case Kind::atom:
      append_atom(out, t.atom_name());
      break;
    case Kind::reference: {
      out += "#Ref<";
      out += std::to_string(t.node_slot());
      auto ids = t.reference_ids();
      for (std::size_t i = ids.size(); i-- > 0;) {
        out += '.';
        out += std::to_string(ids[i]);
      }
      out += '>';
      break;
    }
    case Kind::fun: {
      const Fun& f = t.as_fun();
      if (f.exported) {
        out += "fun ";
        append_atom(out, f.module.atom_name());
        out += ':';
        append_atom(out, f.function.atom_name());
        out += '/';
        out += std::to_string(f.arity);
      } else {
        out += "#Fun<";
        out += f.module.atom_name();
        out += '.';
        out += std::to_string(f.index);
        out += '.';
        out += std::to_string(f.uniq);
        out += '>';
      }
      break;
    }
    case Kind::port:
      out += "#Port<";
      out += std::to_string(t.node_slot());
      out += '.';
      out += std::to_string(t.port_id());
      out += '>';
      break;
    case Kind::pid:
      out += t.as_pid().to_string();
      break;
    case Kind::binary:
      append_binary(out, t);
      break;
    default:
      break;
  }
}

// append() recurses through tuples, lists and maps and leaves the rest to append_leaf(), out of line, so
// that a level of nesting takes little of a process's stack (parse_term() reads 512 levels).
void append(std::string& out, const Term& t) {
  switch (t.kind()) {
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
    default:
      append_leaf(out, t);
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
