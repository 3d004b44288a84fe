// The content scorer: parses the message (parser.h), runs the configured
// rules in one RE2::Set pass per target (rules.h), the built-in outbound
// checks (checks.h), the bulk-sender compliance gate (compliance.h), DNS
// lists (dns_lists.h: the only part that waits, at most its deadline), the learned signals (the Bayes classifier,
// classifier.h, and known-bad fingerprints, fingerprint.h, both reading one
// tokenisation of the text), then the meta rules (meta.h, in configuration
// order, so a meta may use earlier metas); each symbol that fires adds its
// weight; the total decides reject / quarantine / continue, against the
// thresholds of the message's class when it has its own.
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
// Copies share the compiled rules. The classifier and fingerprint store are
// shared, internally locked objects: learning while scoring is safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "content/checks.h"
#include "content/classifier.h"
#include "content/compliance.h"
#include "content/dns_lists.h"
#include "content/fingerprint.h"
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

enum class ContentAction { kContinue, kQuarantine, kTempfail, kReject };

struct ContentResult {
  double score = 0;
  std::vector<ContentHit> hits;  // highest weight first
  ContentAction action = ContentAction::kContinue;
  // Set when the compliance gate refused the message (action kReject,
  // whatever the score): the requirement that failed, for the SMTP reply.
  std::string refusal;
  // fingerprint.h ContentHash of the body, when ScorerOptions::content_hash
  // ("" for a short text).
  std::string content_hash;
  // Delivered (continue or quarantine) with the score at or above
  // ScorerOptions::add_header_score: the message should carry X-Hive-Score.
  bool add_header = false;
  // The reject threshold that applied (its class's, or the default; 0: none).
  double reject_score = 0;
};

// BAYES_SPAM when the classifier's spam probability p >= spam_threshold,
// weighing spam_weight * (2p - 1); BAYES_HAM when p <= ham_threshold,
// weighing ham_weight * (1 - 2p) (ham_weight is normally negative). Nothing
// when the classifier is not ready (too little training, too few tokens).
struct BayesSymbols {
  std::shared_ptr<Classifier> classifier;  // null: off
  double spam_threshold = 0.8;  // the operating point measured in docs/scoring.md
  double ham_threshold = 0.1;
  double spam_weight = 6;
  double ham_weight = -3;
};

// FINGERPRINT_BAD when the body's SimHash is within max_distance bits of a
// known-bad fingerprint.
struct FingerprintSymbols {
  std::shared_ptr<FingerprintStore> store;  // null: off
  int max_distance = 6;
  double weight = 10;
  std::size_t min_tokens = 20;  // shorter texts are not fingerprinted
};

// The thresholds of one message class (Envelope::message_class): a
// platform is stricter on the content of transactional mail (a receipt
// should never look like an advert) and looser on compliance (which never
// gates it, compliance.h).
struct ClassThresholds {
  double reject_score = 0;      // 0: never
  double quarantine_score = 0;  // 0: never
  double tempfail_score = 0;    // 0: never
};

struct ScorerOptions {
  std::vector<ContentRule> rules;
  std::vector<MetaRule> metas;
  bool builtin_checks = false;               // run checks.h
  std::map<std::string, double> symbol_weights;  // overrides of built-in weights
  CheckOptions checks;
  ComplianceOptions compliance;  // weights in symbol_weights too
  Limits limits;
  BayesSymbols bayes;
  FingerprintSymbols fingerprints;
  std::shared_ptr<const DnsLists> dns_lists;  // null: off
  double reject_score = 0;      // 0: never
  double quarantine_score = 0;  // 0: never
  double tempfail_score = 0;    // 0: never; 451 4.7.1, the sender retries
  double add_header_score = 0;  // 0: never; below 0: every delivered message
  // Compute ContentResult::content_hash (a rate-limit key uses it).
  bool content_hash = false;
  // Per message class (lower case), replacing the three above for mail of
  // that class; other classes and class-less mail use the three above.
  std::map<std::string, ClassThresholds> class_thresholds;
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
  // The learned-signal objects, null when not configured: what the admin
  // API's Learn / fingerprint RPCs and the training tools act on.
  const std::shared_ptr<Classifier>& classifier() const;
  const std::shared_ptr<FingerprintStore>& fingerprints() const;
  // A built-in symbol (checks.h or compliance.h) with its default weight,
  // or null if unknown.
  static const BuiltinSymbol* FindBuiltin(const std::string& name);
  // BAYES_SPAM, BAYES_HAM, FINGERPRINT_BAD: reserved, usable in metas.
  static bool IsLearnedSymbol(const std::string& name);

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

}  // namespace hive::policy::content
