// The foundation content scorer: regular-expression rules over the body,
// the subject or a named header; each rule that fires adds its weight and
// reports a hit; the total decides reject / quarantine / continue.
//
// Build rules with ContentRule::Create (validates target and regex
// separately so the config can point at the bad field), then
// Scorer::Score(message). Knows nothing of gRPC or the config schema.
// Immutable after construction: Score() is thread-safe (RE2 is).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "absl/status/statusor.h"
#include "content/message.h"

namespace hive::policy::content {

struct Target {
  enum class Kind { kBody, kSubject, kHeader };
  Kind kind = Kind::kBody;
  std::string header;  // for kHeader

  // "body", "subject" or "header:<Name>".
  static absl::StatusOr<Target> Parse(std::string_view text);
};

absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(std::string_view pattern);

struct ContentRule {
  std::string name;
  Target target;
  std::shared_ptr<const RE2> regex;
  double weight = 0;
};

struct ContentHit {
  std::string rule;
  double weight = 0;
  std::string matched;  // the matched text, at most kMaxMatchedBytes, raw
};

enum class ContentAction { kContinue, kQuarantine, kReject };

struct ContentResult {
  double score = 0;
  std::vector<ContentHit> hits;  // highest weight first
  ContentAction action = ContentAction::kContinue;
};

class Scorer {
 public:
  static constexpr std::size_t kMaxMatchedBytes = 64;

  Scorer() = default;
  // A threshold of 0 disables that action.
  Scorer(std::vector<ContentRule> rules, double reject_score, double quarantine_score)
      : rules_(std::move(rules)), reject_score_(reject_score), quarantine_score_(quarantine_score) {}

  ContentResult Score(const Message& message) const;

  double reject_score() const { return reject_score_; }
  double quarantine_score() const { return quarantine_score_; }

 private:
  std::vector<ContentRule> rules_;
  double reject_score_ = 0;
  double quarantine_score_ = 0;
};

}  // namespace hive::policy::content
