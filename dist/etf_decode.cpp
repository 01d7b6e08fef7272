#include "dist/etf.h"
// (being written)
namespace myrmex::dist {
vm::Expected<vm::Term, DecodeError> decode(std::string_view, DecodeOptions) {
  return vm::unexpected(DecodeError{DecodeError::Kind::truncated, 0, "not written yet"});
}
}  // namespace myrmex::dist
