// Scores a labelled corpus with a policy config's content section and
// reports precision / recall / F1 / false-positive rate at the config's
// reject_score (or --threshold). Research tool: the corpus path is an
// argument, nothing of it is stored. Results go in docs/scoring.md.
//
//   hive-content-eval --config FILE --corpus DIR [--labels FILE] [--neutralise] [--threshold X] [--top N]
//
// DIR holds one raw message per file; labels are "file<TAB>spam|ham" lines
// (default DIR/../labels.tsv). --neutralise keeps only the headers an
// outbound scorer may rely on (From, To, Cc, Subject, Date, Message-ID,
// MIME-Version, Content-*), dropping the ones that leak the label (Received,
// X-UIDL, list headers...).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "config/snapshot.h"
#include "content/scorer.h"

namespace {

using hive::policy::content::Header;
using hive::policy::content::Message;

bool Kept(const std::string& name) {
  const std::string n = absl::AsciiStrToLower(name);
  return n == "from" || n == "to" || n == "cc" || n == "subject" || n == "date" || n == "message-id" ||
         n == "mime-version" || absl::StartsWith(n, "content-");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, corpus, labels;
  bool neutralise = false;
  double threshold = -1;
  int top = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--config") config = next();
    else if (a == "--corpus") corpus = next();
    else if (a == "--labels") labels = next();
    else if (a == "--neutralise") neutralise = true;
    else if (a == "--threshold") threshold = std::stod(next());
    else if (a == "--top") top = std::stoi(next());
    else {
      std::cerr << "usage: hive-content-eval --config FILE --corpus DIR [--labels FILE] [--neutralise] [--threshold X] [--top N]\n";
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
  const hive::policy::content::Scorer& scorer = (*snapshot)->content;
  if (threshold < 0) threshold = scorer.reject_score();
  std::ifstream in(labels);
  if (!in) {
    std::cerr << "hive-content-eval: cannot read " << labels << "\n";
    return 2;
  }
  int tp = 0, fp = 0, tn = 0, fn = 0;
  std::map<std::string, std::pair<int, int>> symbol_counts;  // spam, ham
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string file = line.substr(0, tab);
    const bool spam = absl::StartsWith(line.substr(tab + 1), "spam");
    Message m = hive::policy::content::SplitRawMessage(ReadFile(corpus + "/" + file));
    if (neutralise) {
      std::vector<Header> kept;
      for (Header& h : m.headers) {
        if (Kept(h.name)) kept.push_back(std::move(h));
      }
      m.headers = std::move(kept);
    }
    std::string from;
    if (const std::string* f = hive::policy::content::FindHeader(m, "From")) from = *f;
    // The envelope sender of outbound mail is normally the From address.
    const auto r = scorer.Score(m, hive::policy::content::Envelope{.sender = from, .recipients = 1});
    const bool flagged = r.score >= threshold;
    (spam ? (flagged ? tp : fn) : (flagged ? fp : tn))++;
    for (const auto& h : r.hits) (spam ? symbol_counts[h.rule].first : symbol_counts[h.rule].second)++;
  }
  const double precision = tp + fp ? static_cast<double>(tp) / (tp + fp) : 0;
  const double recall = tp + fn ? static_cast<double>(tp) / (tp + fn) : 0;
  const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
  const double fpr = fp + tn ? static_cast<double>(fp) / (fp + tn) : 0;
  std::printf("messages=%d spam=%d ham=%d threshold=%.2f neutralised=%s\n", tp + fp + tn + fn, tp + fn, fp + tn,
              threshold, neutralise ? "yes" : "no");
  std::printf("tp=%d fp=%d tn=%d fn=%d precision=%.3f recall=%.3f f1=%.3f fp_rate=%.3f\n", tp, fp, tn, fn, precision,
              recall, f1, fpr);
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
