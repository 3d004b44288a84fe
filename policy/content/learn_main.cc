// hive-content-learn: trains the statistical classifier's model file from
// labelled messages, offline, and prints fingerprints for the known-bad
// list. The running hive-policyd reads the file at start and on reload
// (SIGHUP); the admin API's Learn RPC learns one message the same way.
//
//   hive-content-learn --stats-db FILE [--neutralise] [--passes N] [--no-structure-tokens]
//                      [--calibrate FPR] [--spam PATH]... [--ham PATH]...
//   hive-content-learn --fingerprint PATH...
//
// PATH is a message file (an mbox "From " line allowed), an mbox of many,
// a directory of message files or a Maildir folder (content/mail_source.h):
// files that are not messages are skipped and named, and a PATH holding no
// message at all is an error (exit 1). The messages are learned as one
// batch, N passes (default 3) in a fixed shuffled order (Classifier::Train):
// all the spam given before all the ham is not learned class by class. --no-structure-tokens
// matches a config with content.bayes.structure_tokens: false. Learning
// adds to what FILE already holds; the file is replaced atomically at the
// end.
//
// --calibrate FPR (e.g. 0.005) also prints the content.bayes.spam_threshold
// that would flag at most that share of ham, chosen by 5-fold
// cross-validation of the messages given (message i of the sorted input in
// fold i mod 5; content/calibration.h). It reads only these messages, not
// what FILE held before.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/atomic_file.h"
#include "content/calibration.h"
#include "content/classifier.h"
#include "content/fingerprint.h"
#include "content/mail_source.h"

namespace {

namespace content = hive::policy::content;

// Calls `use` with each message of `path` (mail_source.h), parsed and
// neutralised when asked; says on stderr what was skipped. False after
// saying why: an unreadable path, or one holding no message at all.
bool EachMessage(const std::string& path, bool neutralise,
                 const std::function<void(const std::string& name, const content::Message&)>& use) {
  absl::StatusOr<content::MailSourceReport> report =
      content::ForEachMessage(path, [&](std::string_view name, std::string_view raw) {
        content::Message m = content::SplitRawMessage(raw);
        if (neutralise) content::NeutraliseHeaders(m);
        use(std::string(name), m);
        return absl::OkStatus();
      });
  if (!report.ok()) {
    std::fprintf(stderr, "hive-content-learn: %s\n", std::string(report.status().message()).c_str());
    return false;
  }
  constexpr std::size_t kNamed = 5;
  for (std::size_t i = 0; i < report->skipped.size() && i < kNamed; ++i) {
    std::fprintf(stderr, "hive-content-learn: skipped %s: %s\n", report->skipped[i].name.c_str(),
                 report->skipped[i].why.c_str());
  }
  if (report->skipped.size() > kNamed) {
    std::fprintf(stderr, "hive-content-learn: skipped %zu more files of %s that are not messages\n",
                 report->skipped.size() - kNamed, path.c_str());
  }
  if (report->messages == 0) {
    std::fprintf(stderr,
                 "hive-content-learn: %s: no message in it (a message file, an mbox, a directory of message files "
                 "or a Maildir folder)\n",
                 path.c_str());
    return false;
  }
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: hive-content-learn --stats-db FILE [--neutralise] [--passes N] [--no-structure-tokens]\n"
               "                          [--calibrate FPR] [--spam PATH]... [--ham PATH]...\n"
               "       hive-content-learn --fingerprint PATH...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  bool neutralise = false;
  bool fingerprint = false;
  int passes = 3;
  double calibrate = -1;
  content::ClassifierOptions options;
  std::vector<std::pair<std::string, bool>> inputs;  // path, is_spam
  std::vector<std::string> to_fingerprint;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--stats-db") db = next();
    else if (a == "--neutralise") neutralise = true;
    else if (a == "--spam") inputs.emplace_back(next(), true);
    else if (a == "--ham") inputs.emplace_back(next(), false);
    else if (a == "--passes") passes = std::atoi(next().c_str());
    else if (a == "--no-structure-tokens") options.structure_tokens = false;
    else if (a == "--calibrate") calibrate = std::atof(next().c_str());
    else if (a == "--fingerprint") fingerprint = true;
    else if (fingerprint && a[0] != '-') to_fingerprint.push_back(a);
    else return Usage();
  }
  if (fingerprint) {
    int status = 0;
    for (const std::string& path : to_fingerprint) {
      const bool read = EachMessage(path, /*neutralise=*/false, [&](const std::string& name, const content::Message& m) {
        content::Tokens tokens;
        content::Tokenize(content::Parse(m), tokens);
        // The scorer's default min_tokens: a fingerprint it would never compute is useless.
        if (std::optional<std::uint64_t> h = content::SimHash(tokens.body, 20)) {
          std::printf("%016llx %s\n", static_cast<unsigned long long>(*h), name.c_str());
        } else {
          std::fprintf(stderr, "hive-content-learn: %s: too little text to fingerprint\n", name.c_str());
          status = 1;
        }
      });
      if (!read) return 1;
    }
    return status;
  }
  if (db.empty() || inputs.empty() || passes < 1 || passes > 100 || calibrate > 1) return Usage();
  absl::StatusOr<std::shared_ptr<content::Classifier>> c = content::Classifier::Open(db, options);
  if (!c.ok()) {
    std::fprintf(stderr, "hive-content-learn: %s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  std::vector<content::LabelledFeatures> batch;
  for (const auto& [path, is_spam] : inputs) {
    const bool read = EachMessage(path, neutralise, [&](const std::string&, const content::Message& m) {
      content::Tokens tokens;
      (*c)->Features(content::Parse(m, options.limits), tokens);
      batch.push_back({std::move(tokens.features), is_spam});
    });
    if (!read) return 1;
  }
  if (calibrate > 0) {
    const std::size_t hams = static_cast<std::size_t>(
        std::count_if(batch.begin(), batch.end(), [](const content::LabelledFeatures& m) { return !m.is_spam; }));
    if (const std::size_t needed = content::HamsToShowFpRate(calibrate, 0.9); hams < needed) {
      std::printf("calibration: warning: %zu ham are too few to show a false-positive rate of %g (even none "
                  "flagged bounds it only below %.2g with 90%% confidence; that needs %zu ham): expect more ham "
                  "flagged on unseen mail than the threshold below was chosen for\n",
                  hams, calibrate, hams == 0 ? 1.0 : 1 - std::pow(0.1, 1.0 / static_cast<double>(hams)), needed);
    }
    std::vector<int> fold_of(batch.size());
    for (std::size_t i = 0; i < fold_of.size(); ++i) fold_of[i] = static_cast<int>(i % 5);
    const double t = content::CalibrateThreshold(batch, fold_of, 5, passes, options, calibrate);
    if (t > 1) {
      std::printf("calibration: no threshold flags at most %g of the ham in 5-fold cross-validation (each fold "
                  "learns 4/5 of the messages: below %llu of a class the classifier does not answer)\n",
                  calibrate, static_cast<unsigned long long>(options.min_learns));
    } else {
      // content.bayes.spam_threshold must be above 0.5.
      std::printf("calibration: content.bayes.spam_threshold: %.3f (5-fold cross-validation of %zu messages, "
                  "ham flagged <= %g)%s\n",
                  std::max(t, 0.501), batch.size(), calibrate, t <= 0.5 ? "; raised to the lowest allowed" : "");
    }
  }
  (*c)->Train(batch, passes);
  if (absl::Status s = (*c)->Save(); !s.ok()) {
    std::fprintf(stderr, "hive-content-learn: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const content::ClassifierStats st = (*c)->stats();
  std::printf("%s: spam=%llu ham=%llu tokens=%zu memory=%zu bytes\n", db.c_str(),
              static_cast<unsigned long long>(st.spam_learns), static_cast<unsigned long long>(st.ham_learns),
              st.tokens, st.memory_bytes);
  return 0;
}
