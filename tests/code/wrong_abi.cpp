// A code library built against another Myrmex ABI: the host must refuse it before reading past the two
// integers at the front of its exports.
#include <cstdint>

extern "C" __attribute__((visibility("default"))) const void* myrmex_code_library() {
  static const std::uint32_t exports[8] = {999, 1002, 0, 0, 0, 0, 0, 0};
  return exports;
}
