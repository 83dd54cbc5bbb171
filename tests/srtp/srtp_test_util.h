// Helpers shared by the SRTP tests: hex, random master keys, RTP/RTCP packet
// builders with room for the trailer.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dataplane/srtp/packet.h"
#include "dataplane/srtp/suite.h"

namespace mrfp::srtp::test {

inline constexpr Suite kAllSuites[] = {Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32,
                                       Suite::AesCm256HmacSha1_80, Suite::AeadAes128Gcm, Suite::AeadAes256Gcm};

inline std::vector<std::uint8_t> hex(const std::string& text) {
  std::vector<std::uint8_t> bytes;
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '\n') digits += c;
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

inline std::string to_hex(const std::uint8_t* data, std::size_t length) {
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < length; ++i) {
    text += digits[data[i] >> 4];
    text += digits[data[i] & 15];
  }
  return text;
}

// Byte equality that only builds the hex dump when it fails (the tests compare
// thousands of packets; under ASan the dumps would dominate the run time).
inline ::testing::AssertionResult same_bytes(const std::uint8_t* actual, std::size_t actual_length,
                                             const std::uint8_t* expected, std::size_t expected_length) {
  if (actual_length == expected_length && std::equal(actual, actual + actual_length, expected)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "\n  actual   " << to_hex(actual, actual_length) << "\n  expected "
                                       << to_hex(expected, expected_length);
}

inline MasterKey random_key(Suite suite, std::mt19937& random, std::uint8_t mki_len = 0) {
  MasterKey key;
  key.suite = suite;
  key.key_len = static_cast<std::uint8_t>(params(suite).master_key_len);
  key.salt_len = static_cast<std::uint8_t>(params(suite).master_salt_len);
  key.mki_len = mki_len;
  for (auto& b : key.key) b = static_cast<std::uint8_t>(random());
  for (auto& b : key.salt) b = static_cast<std::uint8_t>(random());
  for (auto& b : key.mki) b = static_cast<std::uint8_t>(random());
  return key;
}

// A packet buffer with headroom for any trailer (tag 16/10 + MKI 16 + index 4).
struct Buffer {
  std::vector<std::uint8_t> bytes;
  std::uint32_t length = 0;
  PacketView view() {
    return PacketView{bytes.data(), length, static_cast<std::uint32_t>(bytes.size()), PacketStatus::Ok};
  }
  std::vector<std::uint8_t> content() const { return {bytes.begin(), bytes.begin() + length}; }
};
inline constexpr std::size_t kTrailerRoom = 64;

// RTP (RFC 3550 §5.1): version 2, optional CSRCs and a header extension.
inline Buffer make_rtp(std::uint32_t ssrc, std::uint16_t sequence, std::size_t payload, std::mt19937& random,
                       std::uint8_t csrcs = 0, std::uint16_t extension_words = 0) {
  Buffer buffer;
  std::vector<std::uint8_t>& b = buffer.bytes;
  b.push_back(static_cast<std::uint8_t>(0x80 | (extension_words ? 0x10 : 0) | csrcs));
  b.push_back(0);  // PT 0 (PCMU)
  b.push_back(static_cast<std::uint8_t>(sequence >> 8));
  b.push_back(static_cast<std::uint8_t>(sequence));
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(random()));  // timestamp
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(ssrc >> (8 * i)));
  for (int i = 0; i < 4 * csrcs; ++i) b.push_back(static_cast<std::uint8_t>(random()));
  if (extension_words) {
    b.push_back(0xbe);
    b.push_back(0xde);
    b.push_back(static_cast<std::uint8_t>(extension_words >> 8));
    b.push_back(static_cast<std::uint8_t>(extension_words));
    for (int i = 0; i < 4 * extension_words; ++i) b.push_back(static_cast<std::uint8_t>(random()));
  }
  for (std::size_t i = 0; i < payload; ++i) b.push_back(static_cast<std::uint8_t>(random()));
  buffer.length = static_cast<std::uint32_t>(b.size());
  b.resize(b.size() + kTrailerRoom);
  return buffer;
}

// RTCP sender report (RFC 3550 §6.4.1) followed by `extra` random bytes
// (another packet of a compound, as far as SRTCP is concerned).
inline Buffer make_rtcp(std::uint32_t ssrc, std::size_t extra, std::mt19937& random) {
  Buffer buffer;
  std::vector<std::uint8_t>& b = buffer.bytes;
  const std::size_t words = 6 + extra / 4;
  b.push_back(0x80);
  b.push_back(200);
  b.push_back(static_cast<std::uint8_t>(words >> 8));
  b.push_back(static_cast<std::uint8_t>(words));
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(ssrc >> (8 * i)));
  for (std::size_t i = 0; i < 20 + (extra / 4) * 4; ++i) b.push_back(static_cast<std::uint8_t>(random()));
  buffer.length = static_cast<std::uint32_t>(b.size());
  b.resize(b.size() + kTrailerRoom);
  return buffer;
}

}  // namespace mrfp::srtp::test
