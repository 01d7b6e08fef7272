// Must not compile: the request names `long` as its reply; a std::string reply would never be received.
#include <myrmex/myrmex.h>
#include <string>
struct GetTotal {
  using reply_type = long;
};
void f(const myrmex::Request<GetTotal>& r) {
  myrmex::reply(r, std::string("twelve"));
}
