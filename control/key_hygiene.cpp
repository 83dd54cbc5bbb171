#include "control/key_hygiene.h"

#include <string.h>  // explicit_bzero

namespace mrfp::control {
namespace {

void wipe(std::string* bytes) {
  // The whole capacity: a shorter earlier value may have left bytes past size().
  bytes->resize(bytes->capacity());
  explicit_bzero(bytes->data(), bytes->size());
  bytes->clear();
}

}  // namespace

void wipe_key_bytes(mp::v1::SrtpKey& key) {
  wipe(key.mutable_master_key());
  wipe(key.mutable_master_salt());
  wipe(key.mutable_mki());
}

}  // namespace mrfp::control
