// Must not compile: sending a Message lvalue would wrap it; forwarding takes std::move(message).
#include <myrmex/myrmex.h>
void f(myrmex::Pid to, myrmex::Message& m) {
  myrmex::send(to, m);
}
