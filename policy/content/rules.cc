#include "content/rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::content {
namespace {

// RE2::Set builds one DFA for all its patterns; several hundred rules need
// more than RE2's 8 MiB default. Past this the group matches one by one.
constexpr int64_t kSetMaxMem = 64 << 20;

bool IsHeaderNameChar(char c) {
  // RFC 5322 ftext: printable ASCII except the colon.
  return c > 32 && c < 127 && c != ':';
}

bool FirstMatch(const RE2& re, std::string_view text, std::string* matched) {
  re2::StringPiece whole;
  re2::StringPiece input(text.data(), text.size());
  if (!re.Match(input, 0, input.size(), RE2::UNANCHORED, &whole, 1)) return false;
  *matched = std::string(whole.data(), std::min(whole.size(), RuleSet::kMaxMatchedBytes));
  return true;
}

}  // namespace

absl::StatusOr<Target> Target::Parse(std::string_view text) {
  Target t;
  if (text == "body") return t;
  if (text == "subject") return Target{Kind::kSubject, ""};
  if (text == "raw") return Target{Kind::kRaw, ""};
  if (text == "url") return Target{Kind::kUrl, ""};
  if (text == "attachment") return Target{Kind::kAttachment, ""};
  constexpr std::string_view kHeaderPrefix = "header:";
  if (text.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
    const std::string_view name = text.substr(kHeaderPrefix.size());
    if (!name.empty() && std::all_of(name.begin(), name.end(), IsHeaderNameChar)) {
      return Target{Kind::kHeader, std::string(name)};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", std::string(text), "' is not a target (body, subject, header:<Name>, raw, url or attachment)"));
}

absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return absl::InvalidArgumentError(absl::StrCat("invalid RE2 regex: ", re->error()));
  return re;
}

RuleSet::RuleSet(std::vector<ContentRule> rules) : rules_(std::move(rules)) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const ContentRule& r = rules_[i];
    if (r.regex == nullptr) continue;
    const std::string header = absl::AsciiStrToLower(r.target.header);
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const Group& g) { return g.kind == r.target.kind && g.header == header; });
    if (it == groups_.end()) {
      groups_.push_back(Group{r.target.kind, header, {}, nullptr});
      it = groups_.end() - 1;
    }
    it->members.push_back(i);
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kSetMaxMem);
  for (Group& g : groups_) {
    auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    bool ok = true;
    for (std::size_t i : g.members) {
      // Each pattern is re-parsed with the set's options; the rule's own
      // RE2 was compiled with the same defaults, so they agree.
      ok = ok && set->Add(rules_[i].regex->pattern(), nullptr) >= 0;
    }
    if (ok && set->Compile()) g.set = std::move(set);
  }
}

int RuleSet::fallback_groups() const {
  return static_cast<int>(std::count_if(groups_.begin(), groups_.end(), [](const Group& g) { return !g.set; }));
}

void RuleSet::MatchGroup(const Group& g, const std::vector<std::string_view>& inputs,
                         std::vector<bool>& fired) const {
  for (std::string_view in : inputs) {
    bool one_by_one = g.set == nullptr;
    if (!one_by_one) {
      std::vector<int> matched;
      RE2::Set::ErrorInfo error;
      if (g.set->Match(re2::StringPiece(in.data(), in.size()), &matched, &error)) {
        for (int k : matched) fired[g.members[static_cast<std::size_t>(k)]] = true;
      } else if (error.kind != RE2::Set::kNoError) {
        one_by_one = true;  // DFA out of memory on this input
      }
    }
    if (one_by_one) {
      for (std::size_t i : g.members) {
        if (!fired[i] && RE2::PartialMatch(re2::StringPiece(in.data(), in.size()), *rules_[i].regex)) fired[i] = true;
      }
    }
  }
}

std::vector<RuleHit> RuleSet::Match(const Message& message, const ParsedMessage& parsed) const {
  std::vector<bool> fired(rules_.size(), false);
  std::vector<std::vector<std::string_view>> inputs_of(groups_.size());
  std::string raw;  // built only when a raw rule exists
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    std::vector<std::string_view>& inputs = inputs_of[gi];
    switch (g.kind) {
      case Target::Kind::kBody: inputs.push_back(parsed.text); break;
      case Target::Kind::kSubject:
        for (const Header& h : parsed.headers) {
          if (absl::EqualsIgnoreCase(h.name, "subject")) inputs.push_back(h.value);
        }
        break;
      case Target::Kind::kHeader:
        for (const Header& h : parsed.headers) {
          if (absl::EqualsIgnoreCase(h.name, g.header)) inputs.push_back(h.value);
        }
        break;
      case Target::Kind::kRaw:
        if (raw.empty()) {
          for (const Header& h : message.headers) absl::StrAppend(&raw, h.name, ": ", h.value, "\r\n");
          absl::StrAppend(&raw, "\r\n", message.body);
        }
        inputs.push_back(raw);
        break;
      case Target::Kind::kUrl:
        for (const Url& u : parsed.urls) inputs.push_back(u.url);
        break;
      case Target::Kind::kAttachment:
        for (const Attachment& a : parsed.attachments) inputs.push_back(a.filename);
        break;
    }
    MatchGroup(g, inputs, fired);
  }
  std::vector<RuleHit> hits;
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    for (std::size_t i : groups_[gi].members) {
      if (!fired[i]) continue;
      RuleHit hit{i, ""};
      // The set says which rules match, not where: ask the rule itself.
      for (std::string_view in : inputs_of[gi]) {
        if (FirstMatch(*rules_[i].regex, in, &hit.matched)) break;
      }
      hits.push_back(std::move(hit));
    }
  }
  std::sort(hits.begin(), hits.end(), [](const RuleHit& a, const RuleHit& b) { return a.rule < b.rule; });
  return hits;
}

}  // namespace hive::policy::content
