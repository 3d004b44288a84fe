#include "content/transfer.h"

#include <algorithm>
#include <cstdint>

namespace hive::policy::content {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet some senders use
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string DecodeBase64(std::string_view in, bool* garbage, std::size_t max_out) {
  std::string out;
  out.reserve(std::min(max_out, in.size() / 4 * 3 + 3));
  std::uint32_t acc = 0;
  int bits = 0;
  bool dirty = false;
  for (char c : in) {
    if (out.size() >= max_out) break;
    const int v = Base64Value(c);
    if (v < 0) {
      if (c == '=') break;  // padding: the rest is not data
      if (c != '\r' && c != '\n' && c != ' ' && c != '\t') dirty = true;
      continue;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (garbage != nullptr) *garbage = dirty;
  return out;
}

std::string DecodeQuotedPrintable(std::string_view in, bool* garbage) {
  std::string out;
  out.reserve(in.size());
  bool dirty = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    // Soft line break, possibly after trailing blanks added in transit.
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j < in.size() && in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') {
      i = j + 1;
    } else if (j < in.size() && in[j] == '\n') {
      i = j;
    } else if (j == in.size()) {
      i = j;
    } else if (i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      dirty = true;
      out += '=';
    }
  }
  if (garbage != nullptr) *garbage = dirty;
  return out;
}

std::string DecodeQEncoding(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '_') {
      out += ' ';
    } else if (in[i] == '=' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace hive::policy::content
