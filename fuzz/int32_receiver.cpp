// Int32StringReceiver: see intn_receiver.hpp for what is checked.
#include "intn_receiver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return fuzz::fuzzIntN<spindle::Int32StringReceiver>(data, size, 4);
}
