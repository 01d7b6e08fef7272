// parse_term(): recursive descent over Erlang term syntax, one function per construct.
#include "vm/term_parse.h"

#include <charconv>
#include <cstdint>
#include <utility>
#include <vector>

#include "vm/detail/bignum.h"
#include "vm/detail/term_syntax.h"

namespace myrmex::vm {

namespace {

// Failure carries a ParseError out of the recursion to parse_term(), the one place that catches it.
struct Failure {
  ParseError error;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// digit_value() is the value of `c` as a digit of a base up to 36, or 36 if it is none.
unsigned digit_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A' + 10);
  return 36;
}

// magnitude() is the value of `digits` in `base` as Term::integer() takes it (little-endian bytes).
std::vector<std::uint8_t> magnitude(std::string_view digits, unsigned base) {
  if (base == 10) return detail::from_decimal(digits);
  std::vector<std::uint8_t> bytes;
  for (char c : digits) {
    unsigned carry = digit_value(c);
    for (std::uint8_t& b : bytes) {
      unsigned cur = b * base + carry;
      b = static_cast<std::uint8_t>(cur);
      carry = cur >> 8;
    }
    for (; carry; carry >>= 8) bytes.push_back(static_cast<std::uint8_t>(carry));
  }
  return bytes;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  // document() is the whole text: a term, an optional '.', nothing else.
  Term document() {
    Term t = term();
    skip_space();
    if (peek() == '.') ++pos_;
    skip_space();
    if (pos_ < text_.size()) fail(pos_, "expected the end of the text after the term");
    return t;
  }

 private:
  // Nesting counts the tuples, lists and maps open around the parser, for kMaxParseDepth.
  class Nesting {
   public:
    Nesting(Parser& p, std::size_t at) : p_(p) {
      if (++p_.depth_ > kMaxParseDepth)
        p_.fail(at, "nesting deeper than " + std::to_string(kMaxParseDepth) + " levels");
    }
    ~Nesting() { --p_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& p_;
  };

  // term() recurses into tuples, lists and maps and leaves the rest to leaf(), out of line, so that a
  // level of nesting takes little of a process's stack: kMaxParseDepth levels must fit in it.
  Term term() {
    skip_space();
    if (peek() == '{') return tuple();
    if (peek() == '[') return list();
    if (peek() == '#' && peek(1) == '{') return map();
    return leaf();
  }

  // leaf() is a term that holds no terms to read: a number, string, atom, fun, binary or pid.
  [[gnu::noinline]] Term leaf() {
    const char c = peek();
    const char next = peek(1);
    if (is_digit(c) || c == '$' || ((c == '-' || c == '+') && (is_digit(next) || next == '$')))
      return number();
    if (c == '"') return Term::string(strings());
    if (c == '\'' || (pos_ < text_.size() && detail::atom_start(char_at(pos_).code_point)))
      return atom_or_fun();
    if (c == '<') return next == '<' ? binary() : pid();
    if (c == '#') unreadable();
    if ((c >= 'A' && c <= 'Z') || c == '_') fail(pos_, "expected a term, not a variable");
    fail(pos_, pos_ < text_.size() ? "expected a term" : "expected a term before the end of the text");
  }

  // number() is an integer (decimal, Base#digits or $c) or a float, with an optional sign.
  Term number() {
    const std::size_t start = pos_;
    const bool negative = peek() == '-';
    if (peek() == '-' || peek() == '+') ++pos_;
    if (peek() == '$') {
      ++pos_;
      const std::int64_t c = character();
      return negative ? -c : c;
    }
    std::string whole = digits(10);
    if (peek() == '#') {
      ++pos_;
      const unsigned base = whole.size() <= 2 ? static_cast<unsigned>(std::stoi(whole)) : 0;
      if (base < 2 || base > 36) fail(start, "expected a base of 2..36 before '#'");
      return Term::integer(negative, magnitude(digits(base), base));
    }
    if (peek() != '.' || !is_digit(peek(1))) return Term::integer(negative, magnitude(whole, 10));
    ++pos_;
    std::string text = (negative ? "-" : "") + whole + "." + digits(10);
    const char sign = peek(1);
    if ((peek() == 'e' || peek() == 'E') &&
        (is_digit(sign) || ((sign == '-' || sign == '+') && is_digit(peek(2))))) {
      text += text_[pos_++];
      if (!is_digit(sign)) text += text_[pos_++];
      text += digits(10);
    }
    double d = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), d).ec == std::errc::result_out_of_range) {
      // Too small a magnitude is zero, as in Erlang; too large is an error.
      if (text.find("e-") == std::string::npos && text.find("E-") == std::string::npos)
        fail(start, "float out of range");
      d = negative ? -0.0 : 0.0;
    }
    return d;
  }

  // digits() reads digits of `base`, with single '_'s between them (1_000), and is them without the '_'s.
  std::string digits(unsigned base) {
    if (digit_value(peek()) >= base)
      fail(pos_, base == 10 ? "expected a digit" : "expected a base-" + std::to_string(base) + " digit");
    std::string out;
    for (;;) {
      if (digit_value(peek()) < base)
        out += text_[pos_++];
      else if (peek() == '_' && digit_value(peek(1)) < base)
        ++pos_;
      else
        return out;
    }
  }

  // character() is the code point of a character literal after its '$'.
  std::int64_t character() {
    if (pos_ >= text_.size()) fail(pos_, "expected a character after '$'");
    return peek() == '\\' ? escape() : code_point();
  }

  // Char is a character of the text and the bytes it takes.
  struct Char {
    std::uint32_t code_point;
    std::size_t length;
  };

  // char_at() is the character at byte `at` (before the end): UTF-8, or a byte that starts no UTF-8
  // sequence as its own value, which is how Term::string() decodes.
  Char char_at(std::size_t at) const {
    std::uint32_t cp;
    const std::size_t length = detail::next_char(text_, at, cp);
    return {cp, length};
  }

  // code_point() reads one character (see char_at()) and is its code point.
  std::uint32_t code_point() {
    const Char c = char_at(pos_);
    pos_ += c.length;
    return c.code_point;
  }

  // escape() reads an escape sequence (at its backslash) and is the character it stands for.
  std::uint32_t escape() {
    const std::size_t start = pos_++;
    if (pos_ >= text_.size()) fail(start, "unterminated escape sequence");
    const char c = text_[pos_++];
    for (const detail::Escape& e : detail::kEscapes)
      if (e.letter == c) return e.code_point;
    if (c == 's') return ' ';
    if (c == '^') {
      if (pos_ >= text_.size()) fail(start, "expected a character after \\^");
      return static_cast<unsigned char>(text_[pos_++]) & 31;
    }
    if (c >= '0' && c <= '7') {
      std::uint32_t value = static_cast<std::uint32_t>(c - '0');
      for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i)
        value = value * 8 + static_cast<std::uint32_t>(text_[pos_++] - '0');
      return value;
    }
    if (c == 'x') return hex_escape(start);
    --pos_;  // any other character stands for itself: \" \' \\ and the rest
    return code_point();
  }

  // hex_escape() reads the digits of \xNN or \x{N...} (after the x).
  std::uint32_t hex_escape(std::size_t start) {
    const bool braced = peek() == '{';
    if (braced) ++pos_;
    std::uint32_t value = 0;
    int count = 0;
    for (; digit_value(peek()) < 16 && (braced || count < 2); ++count) {
      value = value * 16 + digit_value(text_[pos_++]);
      if (value > 0x10FFFF) break;
    }
    const bool closed = braced ? peek() == '}' : count == 2;
    if (count == 0 || !closed || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
      fail(start, "bad escape: expected \\xNN or \\x{N...} of a code point up to 10FFFF");
    if (braced) ++pos_;
    return value;
  }

  // quoted() reads text in `quote`s (at the opening one) and is it in UTF-8, escapes resolved.
  std::string quoted(char quote, const char* unterminated) {
    const std::size_t start = pos_++;
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail(start, unterminated);
      const char c = text_[pos_];
      if (c == quote) break;
      if (c == '\\')
        detail::append_utf8(out, escape());
      else
        out += text_[pos_++];
    }
    ++pos_;
    return out;
  }

  // strings() reads one or more adjacent "..." literals ("ab" "c" is "abc") and is their text in UTF-8.
  std::string strings() {
    std::string out = quoted('"', "unterminated string");
    for (skip_space(); peek() == '"'; skip_space()) out += quoted('"', "unterminated string");
    return out;
  }

  // atom() is an atom, bare or quoted, at most 255 characters long; or fails with `expected`.
  Term atom(const char* expected) {
    skip_space();
    const std::size_t start = pos_;
    std::string name;
    if (peek() == '\'') {
      name = quoted('\'', "unterminated quoted atom");
    } else {
      while (pos_ < text_.size()) {
        const Char c = char_at(pos_);
        if (!(pos_ == start ? detail::atom_start(c.code_point) : detail::atom_char(c.code_point))) break;
        pos_ += c.length;
      }
      if (pos_ == start) fail(pos_, expected);
      name = text_.substr(start, pos_ - start);
      if (detail::reserved_word(name))
        fail(start, "'" + name + "' is a reserved word: quote it to write the atom");
    }
    if (name.size() > 255 && Term::string(name).elements().size() > 255)
      fail(start, "atom longer than 255 characters");
    return Term::atom(name);
  }

  // atom_or_fun() is an atom, or the export fun `fun Module:Function/Arity`.
  Term atom_or_fun() {
    if (text_.substr(pos_, 3) != "fun" || atom_char_at(pos_ + 3)) return atom("expected an atom");
    pos_ += 3;
    static constexpr const char* kSyntax = "expected fun Module:Function/Arity";
    Fun f;
    f.exported = true;
    f.module = atom(kSyntax);
    expect(":", kSyntax);
    f.function = atom(kSyntax);
    expect("/", kSyntax);
    skip_space();
    const std::size_t arity_at = pos_;
    if (!is_digit(peek())) fail(pos_, kSyntax);
    const std::string arity = digits(10);
    if (arity.size() > 3 || std::stoi(arity) > 255) fail(arity_at, "a fun's arity must be 0..255");
    f.arity = static_cast<unsigned>(std::stoi(arity));
    return Term::fun(std::move(f));
  }

  // tuple(), list() and map() count towards kMaxParseDepth when they hold something.
  Term tuple() {
    const std::size_t start = pos_++;
    if (consume("}")) return Term::tuple({});
    Nesting nesting(*this, start);
    std::vector<Term> items;
    do {
      items.push_back(term());
    } while (one_of(",}", "expected ',' or '}'") == ',');
    return Term::tuple(std::move(items));
  }

  Term list() {
    const std::size_t start = pos_++;
    if (consume("]")) return Term::nil();
    Nesting nesting(*this, start);
    std::vector<Term> items;
    char next;
    do {
      items.push_back(term());
      next = one_of(",|]", "expected ',', '|' or ']'");
    } while (next == ',');
    if (next == ']') return Term::list(std::move(items));
    Term tail = term();
    one_of("]", "expected ']' after the tail of a list");
    return Term::list(std::move(items), std::move(tail));
  }

  // unreadable() fails on #-syntax other than a map's: what Erlang prints of references, ports and local
  // funs, which it cannot read either.
  [[noreturn]] void unreadable() {
    static constexpr std::pair<std::string_view, const char*> kUnreadable[] = {
        {"#Ref<", "a reference"}, {"#Port<", "a port"}, {"#Fun<", "a local fun"}};
    for (auto [prefix, what] : kUnreadable)
      if (text_.substr(pos_, prefix.size()) == prefix)
        fail(pos_, std::string(what) + " (" + std::string(prefix) + "...>) cannot be read, as in Erlang");
    fail(pos_, "expected '#{'");
  }

  // map() is #{K => V, ...}.
  Term map() {
    const std::size_t start = pos_;
    pos_ += 2;
    if (consume("}")) return Term::map({});
    Nesting nesting(*this, start);
    std::vector<std::pair<Term, Term>> entries;
    do {
      Term key = term();
      expect("=>", "expected '=>'");
      entries.emplace_back(std::move(key), term());
    } while (one_of(",}", "expected ',' or '}'") == ',');
    return Term::map(std::move(entries));
  }

  // binary() is <<Segment, ...>>: each segment a byte, a string of bytes or /utf8, and the last one may
  // be Value:Bits (1..8 bits).
  Term binary() {
    pos_ += 2;
    std::string bytes;
    unsigned last_bits = 8;
    if (consume(">>")) return Term::binary(bytes);
    for (;;) {
      skip_space();
      if (last_bits != 8) fail(pos_, "only the last segment of a binary may be shorter than 8 bits");
      last_bits = segment(bytes);
      if (consume(">>")) return Term::bitstring(bytes, last_bits);
      one_of(",", "expected ',' or '>>'");
    }
  }

  // segment() appends one segment's bytes to `bytes` and is the bits it keeps of its last byte.
  unsigned segment(std::string& bytes) {
    const std::size_t start = pos_;
    if (peek() == '"') {
      const std::string text = strings();
      if (consume("/")) {
        utf8_type();
        bytes += text;
        return 8;
      }
      const Term chars = Term::string(text);
      for (const Term& c : chars.elements()) {
        if (c.as_integer() > 255)
          fail(start, "a string in a binary must be Latin-1 (characters up to 255) unless it is /utf8");
        bytes += static_cast<char>(c.as_integer());
      }
      return 8;
    }
    if (!is_digit(peek()) && peek() != '$' && peek() != '-')
      fail(pos_, "expected an integer, a character or a string in a binary");
    const Term value = number();
    if (value.kind() != Term::Kind::integer || value.as_integer() < 0)
      fail(start, "a binary segment must be a non-negative integer");
    const std::int64_t v = value.as_integer();
    if (consume("/")) {
      utf8_type();
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail(start, "not a Unicode code point");
      detail::append_utf8(bytes, static_cast<std::uint32_t>(v));
      return 8;
    }
    unsigned bits = 8;
    if (consume(":")) {
      skip_space();
      const std::size_t size_at = pos_;
      const std::string size = digits(10);
      if (size.size() > 1 || size[0] == '0' || size[0] == '9')
        fail(size_at, "a segment's size must be 1..8 bits (segments are bytes, the last may be shorter)");
      bits = static_cast<unsigned>(size[0] - '0');
    }
    if (v >= (std::int64_t{1} << bits))
      fail(start, std::to_string(v) + " does not fit in " + std::to_string(bits) + " bits");
    bytes += static_cast<char>(v << (8 - bits));
    return bits;
  }

  // utf8_type() reads the type after a segment's '/': only utf8 is known.
  void utf8_type() {
    skip_space();
    if (text_.substr(pos_, 4) != "utf8" || atom_char_at(pos_ + 4)) fail(pos_, "expected utf8 after '/'");
    pos_ += 4;
  }

  // pid() is <Node.Index.Generation>, as Pid::to_string() prints it.
  Term pid() {
    const std::size_t start = pos_++;
    std::uint64_t fields[3] = {};
    for (int i = 0; i < 3; ++i) {
      if (i > 0 && peek() != '.') fail(pos_, "expected a pid <Node.Index.Generation>");
      if (i > 0) ++pos_;
      if (!is_digit(peek()))
        fail(pos_, i == 0 ? "expected a term" : "expected a pid <Node.Index.Generation>");
      const std::string number = digits(10);
      if (std::from_chars(number.data(), number.data() + number.size(), fields[i]).ec != std::errc())
        fields[i] = ~std::uint64_t{0};
    }
    if (peek() != '>') fail(pos_, "expected '>' to end the pid");
    ++pos_;
    if (fields[0] >= (1u << Pid::kNodeBits) || fields[1] >= (1u << Pid::kIndexBits) ||
        fields[2] >= (1u << Pid::kGenerationBits))
      fail(start, "pid out of range: node below 4096, index below 2^28, generation below 2^24");
    return Pid::make(static_cast<std::uint32_t>(fields[0]), static_cast<std::uint32_t>(fields[1]),
                     static_cast<std::uint32_t>(fields[2]));
  }

  // skip_space() passes whitespace and %-comments.
  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '%') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++pos_;
      } else {
        return;
      }
    }
  }

  // peek() is the byte `ahead` of the position, '\0' past the end.
  char peek(std::size_t ahead = 0) const { return peek_at(pos_ + ahead); }
  char peek_at(std::size_t at) const { return at < text_.size() ? text_[at] : '\0'; }
  bool atom_char_at(std::size_t at) const {
    return detail::atom_char(static_cast<unsigned char>(peek_at(at)));
  }

  // consume() passes whitespace and then `token` if it comes next.
  bool consume(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  // expect() passes whitespace and `token`, or fails with `message`.
  void expect(std::string_view token, const char* message) {
    if (!consume(token)) fail(pos_, message);
  }

  // one_of() passes whitespace and one of `chars`, and is it; or fails with `message`.
  char one_of(std::string_view chars, const char* message) {
    skip_space();
    if (pos_ >= text_.size() || chars.find(text_[pos_]) == std::string_view::npos) fail(pos_, message);
    return text_[pos_++];
  }

  // fail() ends the parse with an error `message` at offset `at`.
  [[noreturn, gnu::noinline, gnu::cold]] void fail(std::size_t at, std::string_view message) const {
    throw Failure{ParseError{at, std::string(message)}};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
};

}  // namespace

std::string ParseError::to_string() const {
  return message + " at offset " + std::to_string(offset);
}

Expected<Term, ParseError> parse_term(std::string_view text) {
  try {
    return Parser(text).document();
  } catch (Failure& f) {
    return unexpected(std::move(f.error));
  }
}

}  // namespace myrmex::vm
