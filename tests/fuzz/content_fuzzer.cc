// libFuzzer target: the MIME parser and the header decoders on arbitrary
// bytes, under ASan/UBSan (built by tests/fuzz/build-fuzzers.sh with
// clang). Small limits so that the fuzzer also reaches every limit path.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "content/charset.h"
#include "content/checks.h"
#include "content/header_decode.h"
#include "content/mime_params.h"
#include "content/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hive::policy::content;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Limits limits;
  limits.max_parts = 32;
  limits.max_depth = 6;
  limits.max_headers = 64;
  limits.max_line_bytes = 1000;
  limits.max_text_bytes = 64 * 1024;
  const ParsedMessage parsed = Parse(SplitRawMessage(input, 200), limits);
  if (!IsValidUtf8(parsed.text) || !IsValidUtf8(parsed.subject)) __builtin_trap();
  for (const Header& h : parsed.headers) {
    if (!IsValidUtf8(h.value)) __builtin_trap();
  }
  (void)RunChecks(parsed, Envelope{.sender = "a@b.example", .recipients = 1}, CheckOptions{});

  // The decoders on their own, on the same bytes.
  if (!IsValidUtf8(DecodeHeaderValue(input).text)) __builtin_trap();
  const FieldValue f = ParseFieldValue(input);
  for (const auto& [name, value] : f.params) {
    if (!IsValidUtf8(value)) __builtin_trap();
  }
  return 0;
}
