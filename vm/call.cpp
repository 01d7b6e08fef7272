// call()'s out-of-line part (vm/call.h): the scope that makes a call's reference its marker, alias and
// monitor, and reply()'s delivery to an alias.
#include "vm/call.h"

#include "vm/detail/process.h"

namespace myrmex::vm::detail {

CallScope::CallScope(Pid server) : self_(&self_process("call")), ref_(make_ref()) {
  alive_ = begin_call(*self_, ref_.value, server);
}

CallScope::~CallScope() {
  if (!ended_) end();
  self_->mailbox.clear_mark();
}

bool CallScope::end() {
  ended_ = true;
  return !end_call(*self_);
}

SendResult reply_to(Process* self, Pid to, Ref ref, mailbox::Envelope* reply) {
  return send_reply(self->node, to, ref.value, reply) ? SendResult::ok : SendResult::noproc;
}

}  // namespace myrmex::vm::detail
