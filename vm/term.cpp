#include "vm/term.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "vm/detail/atom_table.h"
#include "vm/detail/bignum.h"
#include "vm/detail/term_box.h"
#include "vm/detail/utf8.h"

namespace myrmex::vm {

using detail::TermBox;

namespace {

// The runtime's own atoms, interned once.
struct CommonAtoms {
  Term normal = Term::atom("normal");
  Term kill = Term::atom("kill");
  Term killed = Term::atom("killed");
  Term noproc = Term::atom("noproc");
  Term noconnection = Term::atom("noconnection");
  Term undefined = Term::atom("undefined");
  Term exception = Term::atom("exception");
  Term stack_overflow = Term::atom("stack_overflow");
  Term shutdown = Term::atom("shutdown");
  Term timeout = Term::atom("timeout");
  Term true_ = Term::atom("true");
  Term false_ = Term::atom("false");
};

const CommonAtoms& common() {
  static const CommonAtoms* atoms = new CommonAtoms;  // never destroyed, like the atom table
  return *atoms;
}

std::uint32_t checked_size(std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("Term: more than 2^32 items");
  return static_cast<std::uint32_t>(n);
}

// sequence() moves `elements` into a new box of type H (a tuple or a list).
template <class H>
H* sequence(Term::Kind kind, std::vector<Term>& elements) {
  H* box = detail::make_box<H>(kind, checked_size(elements.size()), elements.size() * sizeof(Term));
  Term* items = box->items();
  for (std::size_t i = 0; i < elements.size(); ++i) new (&items[i]) Term(std::move(elements[i]));
  return box;
}

// append_code_points() appends the code points of `text`; a byte that starts no valid sequence is its
// own value.
void append_code_points(std::vector<Term>& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp;
    i += detail::next_char(text, i, cp);
    out.emplace_back(std::int64_t{cp});
  }
}

}  // namespace

void TermBox::destroy(TermBox* box) noexcept {
  std::size_t bytes = 0;
  switch (box->kind) {
    case Term::Kind::tuple:
      std::destroy_n(static_cast<detail::TupleBox*>(box)->items(), box->size);
      static_cast<detail::TupleBox*>(box)->~TupleBox();
      bytes = sizeof(detail::TupleBox) + box->size * sizeof(Term);
      break;
    case Term::Kind::list:
      std::destroy_n(static_cast<detail::ListBox*>(box)->items(), box->size);
      static_cast<detail::ListBox*>(box)->~ListBox();
      bytes = sizeof(detail::ListBox) + box->size * sizeof(Term);
      break;
    case Term::Kind::map:
      std::destroy_n(static_cast<detail::MapBox*>(box)->entries(), box->size);
      static_cast<detail::MapBox*>(box)->~MapBox();
      bytes = sizeof(detail::MapBox) + box->size * sizeof(MapEntry);
      break;
    case Term::Kind::fun:
      static_cast<detail::FunBox*>(box)->~FunBox();
      bytes = sizeof(detail::FunBox);
      break;
    case Term::Kind::binary:
      bytes = sizeof(detail::BinaryBox) + box->size;
      break;
    case Term::Kind::bignum:
      bytes = sizeof(detail::BignumBox) + box->size;
      break;
    case Term::Kind::reference:
      bytes = sizeof(detail::ReferenceBox);
      break;
    case Term::Kind::port:
      bytes = sizeof(detail::PortBox);
      break;
    default:  // kinds without a box
      break;
  }
  memory::detail::pool_free(box, bytes);
}

void Term::retain() const noexcept {
  if (boxed()) box_->refs.fetch_add(1, std::memory_order_relaxed);
}

void Term::release() noexcept {
  // acq_rel: the last owner sees every other owner's reads done before it frees the block.
  if (boxed() && box_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) TermBox::destroy(box_);
}

Term& Term::operator=(const Term& o) noexcept {
  o.retain();
  release();
  kind_ = o.kind_;
  bits_ = o.bits_;
  return *this;
}

Term& Term::operator=(Term&& o) noexcept {
  if (this != &o) {
    release();
    kind_ = o.kind_;
    bits_ = o.bits_;
    o.kind_ = Kind::integer;
  }
  return *this;
}

Term::Term() : kind_(Kind::atom) {
  static const std::string* undefined = detail::intern_atom("undefined");
  atom_ = undefined;
}

Term Term::atom(std::string_view name) {
  Term t(Kind::atom, nullptr);
  t.atom_ = detail::intern_atom(name);
  return t;
}

Term Term::binary(std::string_view bytes) {
  return bitstring(bytes, 8);
}

Term Term::bitstring(std::string_view bytes, unsigned bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("Term::bitstring: bits must be 1..8");
  if (bytes.empty()) return Term(Kind::binary, nullptr);
  auto* box = detail::make_box<detail::BinaryBox>(Kind::binary, checked_size(bytes.size()), bytes.size());
  std::memcpy(box->bytes(), bytes.data(), bytes.size());
  box->bits = static_cast<std::uint8_t>(bits);
  box->bytes()[bytes.size() - 1] &= static_cast<char>(0xFF << (8 - bits));
  return TermBox::wrap(Kind::binary, box);
}

Term Term::tuple(std::vector<Term> elements) {
  if (elements.empty()) return Term(Kind::tuple, nullptr);
  return TermBox::wrap(Kind::tuple, sequence<detail::TupleBox>(Kind::tuple, elements));
}

Term Term::nil() {
  return Term(Kind::list, nullptr);
}

Term Term::list(std::vector<Term> elements, Term tail) {
  if (tail.kind() == Kind::list && !tail.is_nil()) {
    // Splice a list tail: [a | [b, c | t]] is [a, b, c | t].
    auto rest = tail.elements();
    elements.insert(elements.end(), rest.begin(), rest.end());
    Term last = tail.tail();
    tail = std::move(last);
  }
  if (elements.empty()) return tail;  // [ | t] is t itself
  auto* box = sequence<detail::ListBox>(Kind::list, elements);
  box->tail = std::move(tail);
  return TermBox::wrap(Kind::list, box);
}

Term Term::string(std::string_view text) {
  std::vector<Term> code_points;
  code_points.reserve(text.size());
  append_code_points(code_points, text);
  return list(std::move(code_points));
}

Term Term::map(std::vector<std::pair<Term, Term>> entries) {
  if (entries.empty()) return Term(Kind::map, nullptr);
  // Stable, so that of equal keys the last one given comes last and wins below.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (i + 1 == entries.size() || !(entries[i].first == entries[i + 1].first)) ++distinct;
  auto* box =
      detail::make_box<detail::MapBox>(Kind::map, checked_size(distinct), distinct * sizeof(MapEntry));
  MapEntry* out = box->entries();
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (i + 1 == entries.size() || !(entries[i].first == entries[i + 1].first))
      new (out++) MapEntry{std::move(entries[i].first), std::move(entries[i].second)};
  return TermBox::wrap(Kind::map, box);
}

Term Term::integer(bool negative, std::span<const std::uint8_t> magnitude) {
  if (auto small = detail::fit_int64(negative, magnitude)) return Term(*small);
  std::size_t size = magnitude.size();
  while (magnitude[size - 1] == 0) --size;  // fit_int64 took the zero case
  auto* box = detail::make_box<detail::BignumBox>(Kind::bignum, checked_size(size), size);
  std::memcpy(box->digits(), magnitude.data(), size);
  box->negative = negative;
  return TermBox::wrap(Kind::bignum, box);
}

Term Term::reference(std::uint32_t node_slot, std::span<const std::uint32_t> ids) {
  if (ids.empty() || ids.size() > 5) throw std::invalid_argument("Term::reference: 1 to 5 id words");
  auto* box = detail::make_box<detail::ReferenceBox>(Kind::reference, checked_size(ids.size()), 0);
  box->node = node_slot;
  std::copy(ids.begin(), ids.end(), box->ids);
  return TermBox::wrap(Kind::reference, box);
}

Term Term::port(std::uint32_t node_slot, std::uint64_t id) {
  auto* box = detail::make_box<detail::PortBox>(Kind::port, 0, 0);
  box->node = node_slot;
  box->id = id;
  return TermBox::wrap(Kind::port, box);
}

Term Term::fun(Fun f) {
  if (f.module.kind() != Kind::atom || (f.exported && f.function.kind() != Kind::atom))
    throw std::invalid_argument("Term::fun: module and function must be atoms");
  auto* box = detail::make_box<detail::FunBox>(Kind::fun, 0, 0);
  box->fun = std::move(f);
  return TermBox::wrap(Kind::fun, box);
}

void Term::wrong_kind(const char* wanted) const {
  throw std::invalid_argument(std::string("Term: not ") + wanted + ": " + to_string());
}

template <class Box>
const Box* Term::box_as(Kind kind, const char* wanted) const {
  if (kind_ != kind) wrong_kind(wanted);
  return static_cast<const Box*>(box_);
}

bool Term::is_atom(std::string_view name) const {
  return kind_ == Kind::atom && *atom_ == name;
}

std::string_view Term::atom_name() const {
  return kind_ == Kind::atom ? std::string_view(*atom_) : std::string_view();
}

std::int64_t Term::as_integer() const {
  if (kind_ != Kind::integer) wrong_kind("an integer in int64's range");
  return int_;
}

double Term::as_float() const {
  if (kind_ != Kind::floating) wrong_kind("a float");
  return float_;
}

Pid Term::as_pid() const {
  if (kind_ != Kind::pid) wrong_kind("a pid");
  return Pid{pid_};
}

std::string_view Term::as_binary() const {
  const auto* box = box_as<detail::BinaryBox>(Kind::binary, "a binary");
  return box ? std::string_view(box->bytes(), box->size) : std::string_view();
}

unsigned Term::bits_in_last_byte() const {
  const auto* box = box_as<detail::BinaryBox>(Kind::binary, "a binary");
  return box ? box->bits : 8;
}

std::span<const Term> Term::elements() const {
  if (kind_ == Kind::tuple && box_) return {static_cast<const detail::TupleBox*>(box_)->items(), box_->size};
  if (kind_ == Kind::list && box_) return {static_cast<const detail::ListBox*>(box_)->items(), box_->size};
  if (kind_ != Kind::tuple && kind_ != Kind::list) wrong_kind("a tuple or a list");
  return {};
}

const Term& Term::tail() const {
  static const Term nil_term = nil();
  const auto* box = box_as<detail::ListBox>(Kind::list, "a list");
  return box ? box->tail : nil_term;
}

std::span<const MapEntry> Term::map_entries() const {
  const auto* box = box_as<detail::MapBox>(Kind::map, "a map");
  return box ? std::span<const MapEntry>(box->entries(), box->size) : std::span<const MapEntry>();
}

const Term* Term::find(const Term& key) const {
  auto entries = map_entries();
  auto it = std::lower_bound(entries.begin(), entries.end(), key,
                             [](const MapEntry& e, const Term& k) { return e.key < k; });
  return it != entries.end() && it->key == key ? &it->value : nullptr;
}

bool Term::bignum_negative() const {
  return box_as<detail::BignumBox>(Kind::bignum, "a bignum")->negative;
}

std::span<const std::uint8_t> Term::bignum_magnitude() const {
  const auto* box = box_as<detail::BignumBox>(Kind::bignum, "a bignum");
  return {box->digits(), box->size};
}

std::uint32_t Term::node_slot() const {
  if (kind_ == Kind::pid) return Pid{pid_}.node();
  if (kind_ == Kind::reference) return static_cast<const detail::ReferenceBox*>(box_)->node;
  if (kind_ == Kind::port) return static_cast<const detail::PortBox*>(box_)->node;
  wrong_kind("a pid, reference or port");
}

std::span<const std::uint32_t> Term::reference_ids() const {
  const auto* box = box_as<detail::ReferenceBox>(Kind::reference, "a reference");
  return {box->ids, box->size};
}

std::uint64_t Term::port_id() const {
  return box_as<detail::PortBox>(Kind::port, "a port")->id;
}

const Fun& Term::as_fun() const {
  return box_as<detail::FunBox>(Kind::fun, "a fun")->fun;
}

namespace atoms {
const Term& normal() {
  return common().normal;
}
const Term& kill() {
  return common().kill;
}
const Term& killed() {
  return common().killed;
}
const Term& noproc() {
  return common().noproc;
}
const Term& noconnection() {
  return common().noconnection;
}
const Term& undefined() {
  return common().undefined;
}
const Term& exception() {
  return common().exception;
}
const Term& stack_overflow() {
  return common().stack_overflow;
}
const Term& shutdown() {
  return common().shutdown;
}
const Term& timeout() {
  return common().timeout;
}
const Term& true_() {
  return common().true_;
}
const Term& false_() {
  return common().false_;
}
}  // namespace atoms

}  // namespace myrmex::vm
