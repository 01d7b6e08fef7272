// Bignum helpers: the little arithmetic the runtime needs on integers beyond int64 (print, parse, compare,
// convert). Magnitudes are little-endian bytes without high zero bytes, as ETF's SMALL_BIG/LARGE_BIG carry
// them. Internal to myrmex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace myrmex::vm::detail {

// to_decimal() is the magnitude in base 10 (no sign).
std::string to_decimal(std::span<const std::uint8_t> magnitude);
// from_decimal() is the magnitude of a string of decimal digits (at least one, only digits).
std::vector<std::uint8_t> from_decimal(std::string_view digits);
// compare_magnitudes() is <0, 0 or >0 as a is less than, equal to or greater than b.
int compare_magnitudes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
// to_long_double() is the magnitude, rounded (infinity past long double's range).
long double to_long_double(std::span<const std::uint8_t> magnitude);
// fit_int64() is the integer if it fits in int64.
std::optional<std::int64_t> fit_int64(bool negative, std::span<const std::uint8_t> magnitude);
// magnitude_of() is |i| as little-endian bytes.
std::vector<std::uint8_t> magnitude_of(std::int64_t i);

}  // namespace myrmex::vm::detail
