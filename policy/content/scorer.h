// The content scorer: parses the message (parser.h), runs the configured
// rules in one RE2::Set pass per target (rules.h), the built-in outbound
// checks (checks.h), then the meta rules (meta.h, in configuration order,
// so a meta may use earlier metas); each symbol that fires adds its weight;
// the total decides reject / quarantine / continue.
//
// Interface: build a Scorer from ScorerOptions (or, as the foundation did,
// from plain rules and two thresholds), then Score(message, envelope).
// Knows nothing of gRPC or the config schema: the config compiler validates
// and fills ScorerOptions, the server fills Message and Envelope.
//
// Contract: Score() never fails; limits and malformations are symbols.
// Every result carries the symbols that fired (name, weight, detail) so an
// operator can see why.
//
// Thread-safety: immutable after construction; Score() is thread-safe.
// Copies share the compiled rules.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "content/checks.h"
#include "content/message.h"
#include "content/meta.h"
#include "content/parser.h"
#include "content/rules.h"

namespace hive::policy::content {

struct ContentHit {
  std::string rule;  // the symbol
  double weight = 0;
  std::string matched;  // the matched text or a detail, at most kMaxMatchedBytes, raw
};

enum class ContentAction { kContinue, kQuarantine, kReject };

struct ContentResult {
  double score = 0;
  std::vector<ContentHit> hits;  // highest weight first
  ContentAction action = ContentAction::kContinue;
};

struct ScorerOptions {
  std::vector<ContentRule> rules;
  std::vector<MetaRule> metas;
  bool builtin_checks = false;               // run checks.h
  std::map<std::string, double> symbol_weights;  // overrides of built-in weights
  CheckOptions checks;
  Limits limits;
  double reject_score = 0;      // 0: never
  double quarantine_score = 0;  // 0: never
};

class Scorer {
 public:
  static constexpr std::size_t kMaxMatchedBytes = RuleSet::kMaxMatchedBytes;

  Scorer();
  // Rules only, no built-in checks. A threshold of 0 disables that action.
  Scorer(std::vector<ContentRule> rules, double reject_score, double quarantine_score);
  explicit Scorer(ScorerOptions options);

  ContentResult Score(const Message& message, const Envelope& envelope = {}) const;
  // With a parse already made (benchmarks, tools).
  ContentResult Score(const Message& message, const ParsedMessage& parsed, const Envelope& envelope) const;

  double reject_score() const;
  double quarantine_score() const;
  const Limits& limits() const;
  // The weight of a built-in symbol with its override, or null if unknown.
  static const BuiltinSymbol* FindBuiltin(const std::string& name);

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

}  // namespace hive::policy::content
