// The codecs of message types, looked up by type when a message is about to leave the node.
//
// A local message is a moved C++ value in a type-erased envelope; what reaches distribution is that
// envelope, so the codec of its type is found by type at run time. A type that may cross a node is
// registered once (at start, from any thread), after its myrmex::codec<T> is defined:
//
//   myrmex::dist::register_codec<Point>();
//   ...
//   auto term = myrmex::dist::message_to_term(message);   // {point,1,2}, or a CodecError naming the type
#pragma once

#include <typeinfo>

#include "dist/codec.h"
#include "mailbox/message.h"
#include "vm/expected.h"
#include "vm/term.h"

namespace myrmex::dist {

namespace detail {
using ToTerm = vm::Term (*)(mailbox::Message&);
void register_to_term(const std::type_info& type, ToTerm to_term);
}  // namespace detail

// register_codec() makes T's codec known to message_to_term(). Registering a type twice is harmless.
template <has_codec T>
void register_codec() {
  detail::register_to_term(typeid(T), [](mailbox::Message& m) { return codec<T>::to_term(*m.get<T>()); });
}

// message_to_term() is the term a message leaves the node as. A vm::Term message is itself; a message
// of a type without a registered codec is a CodecError that names the type.
vm::Expected<vm::Term, CodecError> message_to_term(mailbox::Message& message);

}  // namespace myrmex::dist
