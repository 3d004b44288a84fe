#include "routing/delivery_feedback.h"

#include <re2/re2.h>

#include "absl/strings/str_cat.h"

namespace hive::policy::routing {

std::vector<std::string> BlockClassifier::DefaultBlockPatterns() {
  return {
      // 421: the provider closes the door for now.
      R"(^\d\.\d+\.\d+ 421[ -])",
      // Policy replies that say why: blocked, on a list, bad reputation,
      // rate limited, too much volume or too many complaints.
      R"((?i)^[45]\.7\.\d+ .*(block|black ?list|deny ?list|banned|spamhaus|spamcop|barracuda|reputation|rate[ -]?limit|unsolicited|unexpected volume|complaint|too many|exceeded))",
      // Providers' own codes: Gmail 4.7.28, Outlook 4.7.500 and 4.7.650-652.
      R"(\b4\.7\.(28|500|65[012])\b)",
      // Yahoo TSS0x; Outlook S3140, S3150, S775, S77714, S843.
      R"(\b(TSS0\d|S3140|S3150|S775|S77714|S843)\b)",
      // NetEase (163/126/yeah.net) IP and rate codes; QQ's frequency limit.
      R"(\b(HL|RP):[A-Z]{3}\b|(?i:frequency limit))",
  };
}

std::vector<std::string> BlockClassifier::DefaultIgnorePatterns() {
  return {
      R"((?i)gr[ae]y-?list)",
      // Greylisting without the word: 450/451 4.2.0 or 4.7.1 "try again later".
      R"((?i)^4\.(2\.0|7\.1) 45[01][ -].*(try again later|try later|retry later|come back later))",
  };
}

absl::StatusOr<BlockClassifier::Patterns> BlockClassifier::Compile(const std::vector<std::string>& patterns) {
  Patterns out;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    auto re = std::make_shared<const re2::RE2>(patterns[i], re2::RE2::Quiet);
    if (!re->ok()) return absl::InvalidArgumentError(absl::StrCat("[", i, "]: ", re->error()));
    out.push_back(std::move(re));
  }
  return out;
}

BlockClassifier::BlockClassifier()
    : BlockClassifier(*Compile(DefaultBlockPatterns()), *Compile(DefaultIgnorePatterns())) {}

namespace {

std::string FirstMatch(const BlockClassifier::Patterns& patterns, const std::string& text) {
  for (const auto& re : patterns) {
    if (re2::RE2::PartialMatch(text, *re)) return re->pattern();
  }
  return "";
}

}  // namespace

BlockClassifier::Classification BlockClassifier::Classify(DeliveryStatus status, std::string_view dsn,
                                                          std::string_view reply) const {
  Classification out;
  if (status == DeliveryStatus::kSent) return out;
  const std::string text = absl::StrCat(std::string(dsn), " ", std::string(reply));
  out.block = FirstMatch(block_, text);
  if (out.block.empty()) return out;
  out.ignored = FirstMatch(ignore_, text);
  if (!out.ignored.empty()) out.block.clear();
  return out;
}

}  // namespace hive::policy::routing
