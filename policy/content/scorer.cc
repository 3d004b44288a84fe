#include "content/scorer.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::content {
namespace {

bool IsHeaderNameChar(char c) {
  // RFC 5322 ftext: printable ASCII except the colon.
  return c > 32 && c < 127 && c != ':';
}

// The first match of `re` in `text`, cut to a bounded size.
bool FirstMatch(const RE2& re, const std::string& text, std::string* matched) {
  re2::StringPiece whole;
  if (!re.Match(text, 0, text.size(), RE2::UNANCHORED, &whole, 1)) return false;
  *matched = std::string(whole.data(), std::min(whole.size(), Scorer::kMaxMatchedBytes));
  return true;
}

}  // namespace

absl::StatusOr<Target> Target::Parse(std::string_view text) {
  Target t;
  if (text == "body") return t;
  if (text == "subject") {
    t.kind = Kind::kSubject;
    return t;
  }
  constexpr std::string_view kHeaderPrefix = "header:";
  if (text.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
    const std::string_view name = text.substr(kHeaderPrefix.size());
    if (!name.empty() && std::all_of(name.begin(), name.end(), IsHeaderNameChar)) {
      t.kind = Kind::kHeader;
      t.header = std::string(name);
      return t;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(text), "' is not a target (body, subject or header:<Name>)"));
}

absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return absl::InvalidArgumentError(absl::StrCat("invalid RE2 regex: ", re->error()));
  return re;
}

ContentResult Scorer::Score(const Message& message) const {
  ContentResult result;
  // Decoded lazily: messages without body rules pay nothing for it.
  std::optional<std::string> body;
  for (const ContentRule& rule : rules_) {
    std::string matched;
    bool fired = false;
    switch (rule.target.kind) {
      case Target::Kind::kBody:
        if (!body) body = BodyText(message);
        fired = FirstMatch(*rule.regex, *body, &matched);
        break;
      case Target::Kind::kSubject:
      case Target::Kind::kHeader: {
        const std::string name = rule.target.kind == Target::Kind::kSubject ? "Subject" : rule.target.header;
        for (const Header& h : message.headers) {
          if (absl::EqualsIgnoreCase(h.name, name) && FirstMatch(*rule.regex, h.value, &matched)) {
            fired = true;
            break;
          }
        }
        break;
      }
    }
    if (!fired) continue;
    result.score += rule.weight;
    result.hits.push_back({rule.name, rule.weight, std::move(matched)});
  }
  std::stable_sort(result.hits.begin(), result.hits.end(),
                   [](const ContentHit& a, const ContentHit& b) { return a.weight > b.weight; });
  if (reject_score_ > 0 && result.score >= reject_score_) {
    result.action = ContentAction::kReject;
  } else if (quarantine_score_ > 0 && result.score >= quarantine_score_) {
    result.action = ContentAction::kQuarantine;
  }
  return result;
}

}  // namespace hive::policy::content
