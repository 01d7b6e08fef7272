#include "vm/detail/bignum.h"

#include <algorithm>
#include <cmath>

namespace myrmex::vm::detail {

namespace {

// Limbs: base 2^32, little-endian, for the divisions and multiplications of decimal conversion.
std::vector<std::uint32_t> to_limbs(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint32_t> limbs((bytes.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < bytes.size(); ++i) limbs[i / 4] |= std::uint32_t{bytes[i]} << (8 * (i % 4));
  return limbs;
}

std::vector<std::uint8_t> to_bytes(const std::vector<std::uint32_t>& limbs) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(limbs.size() * 4);
  for (std::uint32_t limb : limbs)
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(limb >> (8 * b)));
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  return bytes;
}

// divide() divides `limbs` by `d` in place and is the remainder.
std::uint32_t divide(std::vector<std::uint32_t>& limbs, std::uint32_t d) {
  std::uint64_t rest = 0;
  for (std::size_t i = limbs.size(); i-- > 0;) {
    std::uint64_t cur = (rest << 32) | limbs[i];
    limbs[i] = static_cast<std::uint32_t>(cur / d);
    rest = cur % d;
  }
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  return static_cast<std::uint32_t>(rest);
}

}  // namespace

std::string to_decimal(std::span<const std::uint8_t> magnitude) {
  std::vector<std::uint32_t> limbs = to_limbs(magnitude);
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  if (limbs.empty()) return "0";
  std::string reversed;
  while (!limbs.empty()) {
    std::uint32_t chunk = divide(limbs, 1000000000);  // nine digits at a time
    for (int i = 0; i < 9 && (chunk || !limbs.empty()); ++i, chunk /= 10)
      reversed.push_back(static_cast<char>('0' + chunk % 10));
  }
  return {reversed.rbegin(), reversed.rend()};
}

std::vector<std::uint8_t> from_decimal(std::string_view digits) {
  std::vector<std::uint32_t> limbs;
  for (char c : digits) {
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (std::uint32_t& limb : limbs) {
      std::uint64_t cur = std::uint64_t{limb} * 10 + carry;
      limb = static_cast<std::uint32_t>(cur);
      carry = cur >> 32;
    }
    if (carry) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  return to_bytes(limbs);
}

int compare_magnitudes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

long double to_long_double(std::span<const std::uint8_t> magnitude) {
  long double value = 0;
  for (std::size_t i = magnitude.size(); i-- > 0;) value = value * 256 + magnitude[i];
  return value;
}

std::optional<std::int64_t> fit_int64(bool negative, std::span<const std::uint8_t> magnitude) {
  std::size_t size = magnitude.size();
  while (size && magnitude[size - 1] == 0) --size;
  if (size > 8) return std::nullopt;
  std::uint64_t u = 0;
  for (std::size_t i = size; i-- > 0;) u = (u << 8) | magnitude[i];
  if (!negative) {
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (u > static_cast<std::uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return static_cast<std::int64_t>(0 - u);
}

std::vector<std::uint8_t> magnitude_of(std::int64_t i) {
  std::uint64_t u = i < 0 ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
  std::vector<std::uint8_t> bytes;
  for (; u; u >>= 8) bytes.push_back(static_cast<std::uint8_t>(u));
  return bytes;
}

}  // namespace myrmex::vm::detail
