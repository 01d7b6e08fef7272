// Must not compile: an acknowledgement-only request is answered with reply(request), no value.
#include <myrmex/myrmex.h>
struct Reset {
  using reply_type = void;
};
void f(const myrmex::Request<Reset>& r) {
  myrmex::reply(r, 0);
}
