#include "dist/message_codec.h"

#include <map>
#include <mutex>
#include <shared_mutex>
#include <typeindex>

namespace myrmex::dist {

namespace {

// Registered at start, read at every message that leaves the node: a shared lock.
class CodecTable {
 public:
  void add(const std::type_info& type, detail::ToTerm to_term) {
    std::unique_lock lock(mutex_);
    by_type_[std::type_index(type)] = to_term;
  }
  detail::ToTerm find(const std::type_info& type) const {
    std::shared_lock lock(mutex_);
    auto it = by_type_.find(std::type_index(type));
    return it == by_type_.end() ? nullptr : it->second;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::type_index, detail::ToTerm> by_type_;  // GUARDED_BY(mutex_)
};

CodecTable& table() {
  static CodecTable* t = new CodecTable;  // never destroyed: messages may leave during the program's exit
  return *t;
}

}  // namespace

void detail::register_to_term(const std::type_info& type, ToTerm to_term) {
  table().add(type, to_term);
}

vm::Expected<vm::Term, CodecError> message_to_term(mailbox::Message& message) {
  if (!message) return vm::unexpected(CodecError{"an empty message has no term"});
  if (auto* term = message.get<vm::Term>()) return *term;
  if (detail::ToTerm to_term = table().find(message.type())) return to_term(message);
  return vm::unexpected(CodecError{
      "message type " + message.type_name() + " has no codec: define myrmex::codec<" + message.type_name() +
      "> and call myrmex::dist::register_codec<" + message.type_name() + ">() before it leaves the node"});
}

}  // namespace myrmex::dist
