// Which delivery outcomes mean "this provider is blocking or throttling
// this source address": RE2 patterns over "<dsn> <reply>" of deferred and
// bounced deliveries (config routing.feedback.block_patterns, with defaults
// for the common ones: 421, 4.7.x such as Gmail's 4.7.28, 5.7.x "blocked").
// Immutable after Create: thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace hive::policy::routing {

enum class DeliveryStatus { kSent, kDeferred, kBounced };

class BlockClassifier {
 public:
  // Empty `patterns`: DefaultPatterns(). Errors name the pattern's index.
  static absl::StatusOr<BlockClassifier> Create(const std::vector<std::string>& patterns);
  static std::vector<std::string> DefaultPatterns();
  BlockClassifier();  // the defaults

  // The pattern that matched, or "" when the outcome is not a block.
  std::string Match(DeliveryStatus status, std::string_view dsn, std::string_view reply) const;

 private:
  explicit BlockClassifier(std::vector<std::shared_ptr<const re2::RE2>> patterns) : patterns_(std::move(patterns)) {}
  std::vector<std::shared_ptr<const re2::RE2>> patterns_;
};

}  // namespace hive::policy::routing
