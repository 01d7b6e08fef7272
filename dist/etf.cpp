#include "dist/etf.h"

namespace myrmex::dist {

std::string DecodeError::to_string() const {
  static constexpr const char* kNames[] = {"truncated",   "trailing_bytes",  "bad_version",
                                           "unknown_tag", "too_deep",        "bad_atom",
                                           "bad_value",   "bad_compression", "node_table_full"};
  return std::string(kNames[static_cast<int>(kind)]) + " at offset " + std::to_string(offset) + ": " +
         message;
}

}  // namespace myrmex::dist
