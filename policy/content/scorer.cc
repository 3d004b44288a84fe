#include "content/scorer.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hive::policy::content {

struct Scorer::State {
  ScorerOptions options;
  RuleSet rules;
  std::map<std::string, double> builtin_weights;  // defaults with overrides
};

Scorer::Scorer() : Scorer(ScorerOptions{}) {}

Scorer::Scorer(std::vector<ContentRule> rules, double reject_score, double quarantine_score)
    : Scorer(ScorerOptions{.rules = std::move(rules), .reject_score = reject_score,
                           .quarantine_score = quarantine_score}) {}

Scorer::Scorer(ScorerOptions options) {
  auto state = std::make_shared<State>();
  state->rules = RuleSet(options.rules);
  for (const BuiltinSymbol& b : BuiltinSymbols()) state->builtin_weights[b.name] = b.weight;
  for (const BuiltinSymbol& b : ComplianceSymbols()) state->builtin_weights[b.name] = b.weight;
  for (const auto& [name, weight] : options.symbol_weights) state->builtin_weights[name] = weight;
  state->options = std::move(options);
  state_ = std::move(state);
}

double Scorer::reject_score() const { return state_->options.reject_score; }
double Scorer::quarantine_score() const { return state_->options.quarantine_score; }
const Limits& Scorer::limits() const { return state_->options.limits; }

const std::shared_ptr<Classifier>& Scorer::classifier() const { return state_->options.bayes.classifier; }
const std::shared_ptr<FingerprintStore>& Scorer::fingerprints() const { return state_->options.fingerprints.store; }

bool Scorer::IsLearnedSymbol(const std::string& name) {
  return name == "BAYES_SPAM" || name == "BAYES_HAM" || name == "FINGERPRINT_BAD";
}

const BuiltinSymbol* Scorer::FindBuiltin(const std::string& name) {
  for (const std::vector<BuiltinSymbol>* list : {&BuiltinSymbols(), &ComplianceSymbols()}) {
    for (const BuiltinSymbol& b : *list) {
      if (name == b.name) return &b;
    }
  }
  return nullptr;
}

ContentResult Scorer::Score(const Message& message, const Envelope& envelope) const {
  return Score(message, Parse(message, state_->options.limits), envelope);
}

ContentResult Scorer::Score(const Message& message, const ParsedMessage& parsed, const Envelope& envelope) const {
  const State& s = *state_;
  ContentResult result;
  std::set<std::string> fired;
  auto add = [&](const std::string& name, double weight, std::string detail) {
    if (!fired.insert(name).second) return;
    if (detail.size() > kMaxMatchedBytes) detail.resize(kMaxMatchedBytes);
    result.score += weight;
    result.hits.push_back({name, weight, std::move(detail)});
  };
  for (RuleHit& hit : s.rules.Match(message, parsed)) {
    const ContentRule& rule = s.rules.rules()[hit.rule];
    add(rule.name, rule.weight, std::move(hit.matched));
  }
  auto builtin_weight = [&](const std::string& name) {
    auto w = s.builtin_weights.find(name);
    return w == s.builtin_weights.end() ? 0.0 : w->second;
  };
  if (s.options.builtin_checks) {
    for (Finding& f : RunChecks(parsed, envelope, s.options.checks)) add(f.symbol, builtin_weight(f.symbol), std::move(f.detail));
  }
  // The gate: in reject mode a failing requirement that weighs anything
  // refuses the message; the reply names the first and lists the others.
  std::vector<std::string> failed;
  for (Finding& f : CheckCompliance(parsed, envelope, s.options.compliance)) {
    const double w = builtin_weight(f.symbol);
    if (s.options.compliance.reject && w > 0) failed.push_back(f.symbol);
    add(f.symbol, w, std::move(f.detail));
  }
  if (!failed.empty()) {
    result.refusal = absl::StrCat(FindBuiltin(failed[0])->meaning, " (", failed[0], ")");
    if (failed.size() > 1) {
      result.refusal += absl::StrCat("; also ", absl::StrJoin(failed.begin() + 1, failed.end(), ", "));
    }
  }
  if (s.options.dns_lists) {
    for (DnsListHit& h : s.options.dns_lists->Check(parsed, envelope)) add(h.symbol, h.weight, std::move(h.detail));
  }
  const BayesSymbols& bayes = s.options.bayes;
  const FingerprintSymbols& fp = s.options.fingerprints;
  if (bayes.classifier || fp.store || s.options.content_hash) {
    // One tokenisation for all; per-thread buffers keep their capacity.
    thread_local Tokens tokens;
    if (bayes.classifier) bayes.classifier->Features(parsed, tokens);
    else Tokenize(parsed, tokens);
    char detail[96];
    if (bayes.classifier) {
      const Classification c = bayes.classifier->Classify(tokens.features);
      const double p = c.probability;
      std::snprintf(detail, sizeof detail, "p=%.4f tokens=%zu", p, c.tokens);
      if (c.ready && p >= bayes.spam_threshold) add("BAYES_SPAM", bayes.spam_weight * (2 * p - 1), detail);
      if (c.ready && p <= bayes.ham_threshold) add("BAYES_HAM", bayes.ham_weight * (1 - 2 * p), detail);
    }
    if (s.options.content_hash) result.content_hash = ContentHash(tokens.body, fp.min_tokens);
    if (fp.store) {
      if (std::optional<std::uint64_t> h = SimHash(tokens.body, fp.min_tokens)) {
        if (std::optional<FingerprintMatch> m = fp.store->Match(*h, fp.max_distance)) {
          std::snprintf(detail, sizeof detail, "%016llx distance=%d ",
                        static_cast<unsigned long long>(m->fingerprint), m->distance);
          add("FINGERPRINT_BAD", fp.weight, detail + m->label);
        }
      }
    }
  }
  for (const MetaRule& meta : s.options.metas) {
    if (meta.expression.Eval([&](const std::string& name) { return fired.contains(name); })) {
      add(meta.name, meta.weight, "");
    }
  }
  std::stable_sort(result.hits.begin(), result.hits.end(),
                   [](const ContentHit& a, const ContentHit& b) { return a.weight > b.weight; });
  ClassThresholds t{s.options.reject_score, s.options.quarantine_score, s.options.tempfail_score};
  if (auto c = s.options.class_thresholds.find(envelope.message_class); c != s.options.class_thresholds.end()) {
    t = c->second;
  }
  const auto reached = [&](double threshold) { return threshold > 0 && result.score >= threshold; };
  if (!result.refusal.empty() || reached(t.reject_score)) {
    result.action = ContentAction::kReject;
  } else if (reached(t.tempfail_score)) {
    result.action = ContentAction::kTempfail;
  } else if (reached(t.quarantine_score)) {
    result.action = ContentAction::kQuarantine;
  }
  result.reject_score = t.reject_score;
  const double header = s.options.add_header_score;
  result.add_header = (result.action == ContentAction::kContinue || result.action == ContentAction::kQuarantine) &&
                      (header < 0 || reached(header));
  return result;
}

}  // namespace hive::policy::content
