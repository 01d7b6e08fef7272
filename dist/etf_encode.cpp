#include "dist/etf.h"
// (being written)
namespace myrmex::dist {
std::string encode(const vm::Term&, EncodeOptions) { return std::string(1, '\x83'); }
}  // namespace myrmex::dist
