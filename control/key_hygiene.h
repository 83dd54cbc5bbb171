// Key bytes arrive in request strings. Once copied into a MasterKey (which wipes
// itself), the request's copies are zeroised so they do not linger in freed heap.
// (gRPC's receive buffers are out of our reach; TLS keeps them off the wire.)
#pragma once

#include "mp.pb.h"

namespace mrfp::control {

void wipe_key_bytes(mp::v1::SrtpKey& key);

// Wipes one key field of a request when the handler returns, whatever the path.
class KeyWipeOnExit {
 public:
  explicit KeyWipeOnExit(mp::v1::SrtpKey* key) : key_(key) {}
  ~KeyWipeOnExit() {
    if (key_ != nullptr) wipe_key_bytes(*key_);
  }
  KeyWipeOnExit(const KeyWipeOnExit&) = delete;
  KeyWipeOnExit& operator=(const KeyWipeOnExit&) = delete;

 private:
  mp::v1::SrtpKey* key_;
};

}  // namespace mrfp::control
