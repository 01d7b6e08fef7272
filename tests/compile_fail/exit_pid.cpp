// Must not compile: exit(pid) would end the caller with the PID as its reason, not signal `pid`.
#include <myrmex/myrmex.h>
void f(myrmex::Pid child) {
  myrmex::exit(child);
}
