// Configured regular-expression rules: each a named symbol with a weight
// and a target, matched in one pass per target with RE2::Set.
//
// Interface: Target::Parse validates a target text; CompileRegex validates a
// pattern (both separately, so the config can point at the bad field);
// RuleSet groups rules by target and compiles one RE2::Set per group, then
// Match() runs every group once over its inputs and reports the rules that
// fired with the first matched text.
//
// Contract: RE2 only (linear time in the input: a rule can never hang the
// service). When a set cannot be built or runs out of DFA memory on some
// input, the group falls back to matching its rules one by one: same
// results, slower. Inputs are the parser's decoded views: header values
// unfolded and RFC 2047-decoded, body = visible text of all text parts, raw =
// the header block and body as received.
//
// Thread-safety: immutable after construction; Match() is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>

#include "absl/status/statusor.h"
#include "content/message.h"
#include "content/parser.h"

namespace hive::policy::content {

struct Target {
  enum class Kind { kBody, kSubject, kHeader, kRaw, kUrl, kAttachment };
  Kind kind = Kind::kBody;
  std::string header;  // for kHeader

  // "body", "subject", "header:<Name>", "raw", "url" or "attachment"
  // (attachment file names).
  static absl::StatusOr<Target> Parse(std::string_view text);
};

absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(std::string_view pattern);

struct ContentRule {
  std::string name;
  Target target;
  std::shared_ptr<const RE2> regex;
  double weight = 0;
};

struct RuleHit {
  std::size_t rule = 0;  // index into the RuleSet's rules
  std::string matched;   // first match, cut to kMaxMatchedBytes
};

class RuleSet {
 public:
  static constexpr std::size_t kMaxMatchedBytes = 64;

  RuleSet() = default;
  explicit RuleSet(std::vector<ContentRule> rules);

  // The rules that fire, in rule order. `message` is the original (for
  // raw), `parsed` its parse.
  std::vector<RuleHit> Match(const Message& message, const ParsedMessage& parsed) const;

  const std::vector<ContentRule>& rules() const { return rules_; }
  // Groups that fell back to one-by-one matching at construction.
  int fallback_groups() const;

 private:
  struct Group {
    Target::Kind kind;
    std::string header;                  // lower case, for kHeader
    std::vector<std::size_t> members;    // rule indexes
    std::unique_ptr<RE2::Set> set;       // null: match one by one
  };
  void MatchGroup(const Group& g, const std::vector<std::string_view>& inputs, std::vector<bool>& fired) const;

  std::vector<ContentRule> rules_;
  std::vector<Group> groups_;
};

}  // namespace hive::policy::content
