#include "routing/delivery_feedback.h"

#include <re2/re2.h>

#include "absl/strings/str_cat.h"

namespace hive::policy::routing {

std::vector<std::string> BlockClassifier::DefaultPatterns() {
  return {
      R"(^4\.7\.\d+ )",                // policy deferrals: Gmail 4.7.28, Yahoo 4.7.0 TSS04, ...
      R"(^4\.\d+\.\d+ 421[ -])",       // 421: the provider closes the door for now
      R"((?i)^5\.7\.\d+ .*block)",     // "5.7.1 ... blocked", Spamhaus-style refusals
  };
}

BlockClassifier::BlockClassifier() : BlockClassifier(*Create({})) {}

absl::StatusOr<BlockClassifier> BlockClassifier::Create(const std::vector<std::string>& patterns) {
  std::vector<std::shared_ptr<const re2::RE2>> out;
  const std::vector<std::string>& list = patterns.empty() ? DefaultPatterns() : patterns;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto re = std::make_shared<const re2::RE2>(list[i], re2::RE2::Quiet);
    if (!re->ok()) return absl::InvalidArgumentError(absl::StrCat("[", i, "]: ", re->error()));
    out.push_back(std::move(re));
  }
  return BlockClassifier(std::move(out));
}

std::string BlockClassifier::Match(DeliveryStatus status, std::string_view dsn, std::string_view reply) const {
  if (status == DeliveryStatus::kSent) return "";
  const std::string text = absl::StrCat(std::string(dsn), " ", std::string(reply));
  for (const auto& re : patterns_) {
    if (re2::RE2::PartialMatch(text, *re)) return re->pattern();
  }
  return "";
}

}  // namespace hive::policy::routing
