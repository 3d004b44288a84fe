// Which delivery outcomes mean "this provider is blocking or throttling
// this source address", and how many of them it takes to act.
//
// BlockClassifier: RE2 patterns over "<dsn> <reply>" of deferred and
// bounced deliveries. A reply is a block when a block pattern matches and no
// ignore pattern does. The ignore patterns are for replies that say nothing
// about the address's reputation, greylisting above all ("450 4.2.0 ...
// Greylisted", "451 4.7.1 Please try again later"): a routine greylist
// must not set a warming address back. Defaults (config
// routing.feedback.block_patterns / ignore_patterns, each list replaced
// as a whole when given) cover 421 replies, x.7.x replies naming a block,
// list, reputation or rate limit, Gmail 4.7.28, Outlook 4.7.650-652 and
// S3140/S775, Yahoo TSS0x, NetEase HL:/RP: and QQ "frequency limited".
//
// FeedbackPolicy: a member steps back and pauses for a provider group once
// `block_threshold` blocks arrived within `block_window` (feedback_loop.h),
// and the pause lasts `pause`. Immutable after construction: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
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
  using Patterns = std::vector<std::shared_ptr<const re2::RE2>>;

  // Errors name the pattern's index ("[2]: missing )").
  static absl::StatusOr<Patterns> Compile(const std::vector<std::string>& patterns);
  static std::vector<std::string> DefaultBlockPatterns();
  static std::vector<std::string> DefaultIgnorePatterns();

  BlockClassifier();  // the defaults
  BlockClassifier(Patterns block, Patterns ignore) : block_(std::move(block)), ignore_(std::move(ignore)) {}

  struct Classification {
    std::string block;    // the block pattern that matched; "" when not a block
    std::string ignored;  // the ignore pattern that vetoed a block, else ""
  };
  Classification Classify(DeliveryStatus status, std::string_view dsn, std::string_view reply) const;
  // The block pattern that matched, or "" when the outcome is not a block.
  std::string Match(DeliveryStatus status, std::string_view dsn, std::string_view reply) const {
    return Classify(status, dsn, reply).block;
  }

 private:
  Patterns block_;
  Patterns ignore_;
};

struct FeedbackPolicy {
  static constexpr std::int64_t kDefaultThreshold = 3;
  static constexpr std::chrono::nanoseconds kDefaultWindow = std::chrono::minutes(10);
  static constexpr std::chrono::nanoseconds kDefaultPause = std::chrono::hours(2);

  BlockClassifier classifier;
  std::int64_t block_threshold = kDefaultThreshold;
  std::chrono::nanoseconds block_window = kDefaultWindow;
  std::chrono::nanoseconds pause = kDefaultPause;
};

}  // namespace hive::policy::routing
