// Built-in checks for outbound mail: header sanity, From alignment,
// structure (HTML-only, image-only), links (shorteners, text/href
// mismatch, obfuscation), dangerous attachments, recipient count, and the
// parser's limit and anomaly facts. Each produces a named symbol; weights
// come from BuiltinSymbols() and may be overridden by configuration.
//
// Contract: RunChecks() reads only its arguments; it reports each symbol at
// most once, with a short detail for the operator.
//
// Thread-safety: pure functions over immutable data.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "content/envelope.h"
#include "content/from_header.h"
#include "content/parser.h"

namespace hive::policy::content {

struct BuiltinSymbol {
  const char* name;
  double weight;  // default
  const char* meaning;
};

// Every built-in symbol with its default weight.
const std::vector<BuiltinSymbol>& BuiltinSymbols();

struct CheckOptions {
  std::set<std::string> url_shorteners;  // hosts; DefaultShorteners() when not configured
  std::size_t many_recipients = 50;      // at or above: MANY_RECIPIENTS
};

std::set<std::string> DefaultShorteners();

struct Finding {
  std::string symbol;
  std::string detail;
};

std::vector<Finding> RunChecks(const ParsedMessage& parsed, const Envelope& envelope, const CheckOptions& options);

}  // namespace hive::policy::content
