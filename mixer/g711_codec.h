// G.711 mu-law / A-law behind the AudioEncoder / AudioDecoder interface.
// Use make_encoder() / make_decoder() from codec.h; these are what they call.
#pragma once

#include <memory>

#include "codec.h"

namespace mrfp::mixer {

// Both expect a config already accepted by validate().
std::unique_ptr<AudioEncoder> make_g711_encoder(const CodecConfig& config);
std::unique_ptr<AudioDecoder> make_g711_decoder(const CodecConfig& config);

}  // namespace mrfp::mixer
