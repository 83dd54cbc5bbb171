// Key material typed by an operator: hexadecimal (the default) or base64
// (RFC 4648, as in SDP a=crypto inline keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mrfp::control::cli {

enum class KeyEncoding { Hex, Base64 };

std::optional<std::string> decode_hex(std::string_view text);
std::optional<std::string> decode_base64(std::string_view text);
std::optional<std::string> decode_key_text(std::string_view text, KeyEncoding encoding);

}  // namespace mrfp::control::cli
