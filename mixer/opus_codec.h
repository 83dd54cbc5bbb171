// Opus (libopus) behind the AudioEncoder / AudioDecoder interface, per RFC 7587:
// mono, PLC, in-band FEC (LBRR) and DTX. Use make_encoder() / make_decoder()
// from codec.h; these are what they call.
#pragma once

#include <memory>

#include "codec.h"

namespace mrfp::mixer {

// Both expect a config already accepted by validate(); nullptr if libopus
// refuses to build the state.
std::unique_ptr<AudioEncoder> make_opus_encoder(const CodecConfig& config, CodecStatus* status);
std::unique_ptr<AudioDecoder> make_opus_decoder(const CodecConfig& config, CodecStatus* status);

}  // namespace mrfp::mixer
