// Scores a labelled corpus with a policy config's content section and
// reports precision / recall / F1 / false-positive rate at the config's
// reject_score (or --threshold). Research tool: the corpus path is an
// argument, nothing of it is stored. Results go in docs/scoring.md.
//
//   hive-content-eval --config FILE --corpus DIR [--labels FILE] [--neutralise] [--threshold X] [--top N]
//                     [--folds K | --split K | --dev K [--dev-word 1|2]] [--calibrate FPR] [--passes N]
//                     [--dump FILE]
//
// DIR holds one raw message per file; labels are "file<TAB>spam|ham" lines
// (default DIR/../labels.tsv). --neutralise keeps only the headers an
// outbound scorer may rely on (From, To, Cc, Subject, Date, Message-ID,
// MIME-Version, Content-*), dropping the ones that leak the label (Received,
// X-UIDL, list headers...).
//
// --folds K (needs content.bayes.enabled): K-fold cross-validation of the
// classifier. A message's fold is its file's hash: the first 8 bytes of the
// SHA-256 of the raw file, read as a big-endian integer, mod K. So the split
// is deterministic, does not depend on file names or order, and byte-identical
// copies of a message always fall in the same fold (never one in train and
// its twin in test). For each fold the classifier is reset, trained on the
// other K-1 folds (neutralised too when --neutralise) and the fold is
// scored. Every message is scored exactly once, by a model that never saw it.
//
// --split K: one train/test split instead, the one the issue asks for:
// the messages of fold 0 (file hash mod K == 0) are the test set, the
// classifier is trained on all the others once.
//
// --calibrate FPR: the classifier's threshold is not the config's but is
// chosen on the training set only: an inner 5-fold cross-validation over
// it (folds by the next 8 bytes of the SHA-256) gives each training
// message a probability from a model that did not see it, and the
// threshold is the lowest one at which at most FPR of those hams would be
// flagged (counted as content/calibration.h says, as hive-content-learn
// --calibrate does). A message is then flagged when p >= that threshold (rules,
// checks and reject_score are not used). The test set is never read to
// choose anything.
//
// --dev K: development mode, for choosing tokens and parameters without
// looking at the test set: the test set of --split 5 is dropped, and the
// other 80% is cross-validated K ways (folds by the next 8 bytes of the
// SHA-256; --calibrate then uses the 8 after those). --dev-word 2 moves
// both one word on: another fold assignment of the same messages, to tell
// a real gain from the luck of one assignment.
//
// --dump FILE writes "file<TAB>label<TAB>score<TAB>bayes p" per scored
// message (p -1: no classifier or not ready). The report also gives, for
// information only, the best recall any threshold on the classifier's
// probability reaches at a false-positive rate of at most 0.5%: a
// threshold chosen on the test set is not a result, the configured one is.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "config/snapshot.h"
#include "content/calibration.h"
#include "content/scorer.h"

namespace {

namespace content = hive::policy::content;
using content::Message;

constexpr int kHashWords = 4;

// The SHA-256 of data as four big-endian 64-bit words: word 0 picks the
// fold, word 1 the inner fold of a calibration or of --dev, word 2 the
// inner fold of a calibration within --dev.
std::array<std::uint64_t, kHashWords> FileHash(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  std::array<std::uint64_t, kHashWords> h{};
  for (int w = 0; w < kHashWords; ++w) {
    for (int i = 0; i < 8; ++i) h[w] = (h[w] << 8) | digest[8 * w + i];
  }
  return h;
}

struct Labelled {
  std::string file;
  bool spam = false;
  Message message;
  std::array<std::uint64_t, kHashWords> hash{};  // FileHash of the raw file
  std::vector<std::uint64_t> features;           // the classifier's, computed once
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool InFold(const Labelled& l, int level, int folds, int fold) {
  return static_cast<int>(l.hash[level] % static_cast<unsigned>(folds)) == fold;
}

// Resets the classifier and trains it on `train`.
void TrainOn(content::Classifier& c, const std::vector<const Labelled*>& train, int passes) {
  c.Reset();
  std::vector<content::LabelledFeatures> batch;
  batch.reserve(train.size());
  for (const Labelled* l : train) batch.push_back({l->features, l->spam});
  c.Train(batch, passes);
}

// The classifier's spam probability, -1 when it does not answer.
double Probability(const content::Classifier& c, const Labelled& l) {
  const content::Classification r = c.Classify(l.features);
  return r.ready ? r.probability : -1;
}

// Chooses the threshold on `train` alone (calibration.h): inner
// `inner`-fold cross-validation, folds by hash word `level`.
double Calibrate(const content::Classifier& c, const std::vector<const Labelled*>& train, int level, int inner,
                 int passes, double max_fpr) {
  std::vector<content::LabelledFeatures> examples;
  std::vector<int> fold_of;
  for (const Labelled* l : train) {
    examples.push_back({l->features, l->spam});
    fold_of.push_back(static_cast<int>(l->hash[level] % static_cast<unsigned>(inner)));
  }
  return content::CalibrateThreshold(examples, fold_of, inner, passes, c.options(), max_fpr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, corpus, labels;
  bool neutralise = false;
  double threshold = -1;
  int top = 0;
  int folds = 0;
  bool split = false;
  bool dev = false;
  int dev_word = 1;  // the hash word of --dev's folds (1 or 2; calibration reads the next)
  double calibrate = -1;
  int passes = 3;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--config") config = next();
    else if (a == "--corpus") corpus = next();
    else if (a == "--labels") labels = next();
    else if (a == "--neutralise") neutralise = true;
    else if (a == "--threshold") threshold = std::stod(next());
    else if (a == "--top") top = std::stoi(next());
    else if (a == "--folds") folds = std::stoi(next());
    else if (a == "--split") folds = std::stoi(next()), split = true;
    else if (a == "--dev") folds = std::stoi(next()), dev = true;
    else if (a == "--dev-word") dev_word = std::stoi(next());
    else if (a == "--calibrate") calibrate = std::stod(next());
    else if (a == "--dump") dump = next();
    else if (a == "--passes") passes = std::stoi(next());
    else {
      std::cerr << "usage: hive-content-eval --config FILE --corpus DIR [--labels FILE] [--neutralise] [--threshold X] [--top N]\n"
                   "                         [--folds K | --split K | --dev K [--dev-word 1|2]] [--calibrate FPR] [--passes N]\n"
                   "                         [--dump FILE]\n";
      return 2;
    }
  }
  if (config.empty() || corpus.empty()) {
    std::cerr << "hive-content-eval: --config and --corpus are required\n";
    return 2;
  }
  if (labels.empty()) labels = corpus + "/../labels.tsv";
  auto snapshot = hive::policy::config::LoadSnapshot(config);
  if (!snapshot.ok()) {
    std::cerr << snapshot.status().message() << "\n";
    return 2;
  }
  const content::Scorer& scorer = (*snapshot)->content;
  const auto& classifier = scorer.classifier();
  if (folds != 0 && (folds < 2 || !classifier)) {
    std::cerr << "hive-content-eval: --folds/--split/--dev need K >= 2 and content.bayes.enabled in the config\n";
    return 2;
  }
  if (calibrate >= 0 && folds == 0) {
    std::cerr << "hive-content-eval: --calibrate needs --folds, --split or --dev\n";
    return 2;
  }
  if (threshold < 0) threshold = scorer.reject_score();
  std::ifstream in(labels);
  if (!in) {
    std::cerr << "hive-content-eval: cannot read " << labels << "\n";
    return 2;
  }
  std::vector<Labelled> corpus_messages;
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    Labelled l{line.substr(0, tab), absl::StartsWith(line.substr(tab + 1), "spam"), {}};
    const std::string raw = ReadFile(corpus + "/" + l.file);
    l.hash = FileHash(raw);
    l.message = content::SplitRawMessage(raw);
    if (neutralise) content::NeutraliseHeaders(l.message);
    if (classifier) {
      content::Tokens tokens;
      classifier->Features(content::Parse(l.message, scorer.limits()), tokens);
      l.features = std::move(tokens.features);
    }
    corpus_messages.push_back(std::move(l));
  }
  int tp = 0, fp = 0, tn = 0, fn = 0;
  std::map<std::string, std::pair<int, int>> symbol_counts;  // spam, ham
  std::vector<std::pair<double, bool>> scores;                // score, is spam
  std::vector<double> chosen;                                 // calibrated thresholds
  std::ofstream dump_out;
  if (!dump.empty()) dump_out.open(dump);
  // Scores one message; `p_threshold` >= 0: flagged on the classifier's p alone.
  auto score = [&](const Labelled& l, double p_threshold) {
    std::string from;
    if (const std::string* f = content::FindHeader(l.message, "From")) from = *f;
    // The envelope sender of outbound mail is normally the From address.
    const auto r = scorer.Score(l.message, content::Envelope{.sender = from, .recipients = 1});
    const double p = classifier ? Probability(*classifier, l) : -1;
    const bool flagged = p_threshold >= 0 ? p >= p_threshold : r.score >= threshold;
    scores.emplace_back(classifier ? p : r.score, l.spam);
    if (dump_out) dump_out << l.file << '\t' << (l.spam ? "spam" : "ham") << '\t' << r.score << '\t' << p << '\n';
    (l.spam ? (flagged ? tp : fn) : (flagged ? fp : tn))++;
    for (const auto& h : r.hits) (l.spam ? symbol_counts[h.rule].first : symbol_counts[h.rule].second)++;
  };
  // The messages evaluated, and the hash word their folds are read from.
  std::vector<const Labelled*> universe;
  const int level = dev ? std::clamp(dev_word, 1, kHashWords - 2) : 0;
  for (const Labelled& l : corpus_messages) {
    if (!dev || !InFold(l, 0, 5, 0)) universe.push_back(&l);
  }
  if (folds == 0) {
    for (const Labelled* l : universe) score(*l, -1);
  }
  for (int fold = 0; fold < (split ? 1 : folds); ++fold) {
    std::vector<const Labelled*> train, test;
    for (const Labelled* l : universe) (InFold(*l, level, folds, fold) ? test : train).push_back(l);
    double p_threshold = -1;
    if (calibrate >= 0) {
      p_threshold = Calibrate(*classifier, train, level + 1, 5, passes, calibrate);
      chosen.push_back(p_threshold);
    }
    TrainOn(*classifier, train, passes);
    for (const Labelled* l : test) score(*l, p_threshold);
  }
  const double precision = tp + fp ? static_cast<double>(tp) / (tp + fp) : 0;
  const double recall = tp + fn ? static_cast<double>(tp) / (tp + fn) : 0;
  const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
  const double fpr = fp + tn ? static_cast<double>(fp) / (fp + tn) : 0;
  // "score>=3.50", or "p>=0.812,0.790,..." (one calibrated threshold per fold).
  std::string thresholds = chosen.empty() ? absl::StrFormat("score>=%.2f", threshold) : "p>=";
  for (std::size_t i = 0; i < chosen.size(); ++i) absl::StrAppendFormat(&thresholds, "%s%.3f", i ? "," : "", chosen[i]);
  std::printf("messages=%d spam=%d ham=%d threshold=%s neutralised=%s %s=%d\n", tp + fp + tn + fn, tp + fn, fp + tn,
              thresholds.c_str(), neutralise ? "yes" : "no", dev ? "dev" : split ? "split" : "folds", folds);
  std::printf("tp=%d fp=%d tn=%d fn=%d precision=%.3f recall=%.3f f1=%.3f fp_rate=%.4f\n", tp, fp, tn, fn, precision,
              recall, f1, fpr);
  // Diagnostic: the best recall at FP rate <= 0.5% over all thresholds of
  // the classifier's probability (of the score without a classifier).
  std::sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const int allowed_fp = (fp + tn) / 200;
  int seen_fp = 0, best_tp = 0, seen_tp = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    (scores[i].second ? seen_tp : seen_fp)++;
    const bool boundary = i + 1 == scores.size() || scores[i + 1].first != scores[i].first;
    if (boundary && seen_fp <= allowed_fp) best_tp = seen_tp;
  }
  std::printf("diagnostic: best recall at fp_rate<=0.005 over all thresholds of %s (chosen on the test set) = %.3f\n",
              classifier ? "the classifier's p" : "the score",
              tp + fn ? static_cast<double>(best_tp) / (tp + fn) : 0);
  if (top > 0) {
    std::vector<std::pair<std::string, std::pair<int, int>>> v(symbol_counts.begin(), symbol_counts.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second.first + a.second.second > b.second.first + b.second.second;
    });
    for (int i = 0; i < top && i < static_cast<int>(v.size()); ++i) {
      std::printf("  %-28s spam=%4d ham=%4d\n", v[i].first.c_str(), v[i].second.first, v[i].second.second);
    }
  }
  return 0;
}
