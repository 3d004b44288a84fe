// Google Benchmark of the content engine: parse + score of a 5 KB and a
// 50 KB MIME message (multipart/alternative, GB2312 text + UTF-8 HTML with
// links, an attachment) against 300 configured rules over every target, with
// the built-in checks and a few metas; then the same with the learned
// signals (a Bayes model trained on 2 x 400 synthetic messages, 10,000
// known-bad fingerprints), and those signals alone on a parsed message.
// The benchmarks with a second argument take the rule count from it (300,
// and 500 as the issue's target names). With HIVE_BENCH_CORPUS=DIR set,
// BM_ScoreCorpus scores every message of DIR (one raw message per file, at
// most 2,000 spread over the sorted names, read once before timing) in turn, with 500 rules and the
// learned signals: messages/s on real mail rather than on one synthetic
// message. Not run by ctest; figures in docs/benchmarks.md ("## Content
// scoring"). BM_E2EMessage scores what hive-bench-e2e sends (plain-text
// prose, 5 KB and 50 KB) with the realistic policy's content section, as
// hive-policyd's CheckMessage does in that benchmark.
//
//   build/tests/bench/hive-bench-content [--benchmark_filter=...]
//   HIVE_BENCH_CORPUS=/path/to/eml build/tests/bench/hive-bench-content --benchmark_filter=Corpus
// GCC 12 at -O3 reports a false -Wrestrict in std::string concatenation
// (GCC PR 105329); this file only builds test messages.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_policy.h"
#include "config/snapshot.h"
#include "content/parser.h"
#include "content/scorer.h"

namespace hive::policy::content {
namespace {

ContentRule Rule(const std::string& name, const std::string& target, const std::string& regex) {
  return {name, Target::Parse(target).value(), CompileRegex(regex).value(), 1.0};
}

// Synthetic training text: words and CJK characters drawn from a pool whose
// half depends on the class, so the model has informative and neutral tokens.
std::string TrainingText(std::mt19937& rng, bool spam) {
  std::string text;
  for (int i = 0; i < 120; ++i) {
    const unsigned w = rng() % 2000 + (spam && rng() % 2 ? 2000 : 0);
    if (w % 3 == 0) {
      const char32_t cp = 0x4E00 + w;  // a CJK character, UTF-8 encoded
      text += static_cast<char>(0xE0 | (cp >> 12));
      text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      text += " w" + std::to_string(w) + " ";
    }
  }
  return text;
}

void AddLearned(ScorerOptions& o) {
  o.bayes.classifier = Classifier::Open("").value();
  std::mt19937 rng(42);
  for (int i = 0; i < 800; ++i) {
    Tokens t;
    ParsedMessage p;
    p.text = TrainingText(rng, i % 2 == 0);
    Tokenize(p, t);
    o.bayes.classifier->Learn(t.features, i % 2 == 0);
  }
  o.fingerprints.store = FingerprintStore::Open("").value();
  for (int i = 0; i < 10000; ++i) {
    (void)o.fingerprints.store->Add((std::uint64_t{rng()} << 32) | rng(), "fp" + std::to_string(i));
  }
}

Scorer MakeScorer(int n, bool learned = false) {
  ScorerOptions o;
  if (learned) AddLearned(o);
  static const char* kTargets[] = {"body", "body", "body", "subject", "header:X-Mailer", "url", "attachment", "raw"};
  for (int i = 0; i < n; ++i) {
    const std::string target = kTargets[i % 8];
    // Realistic shapes: word alternations, case-insensitive, some CJK.
    std::string re = "(?i)\\b(?:word" + std::to_string(i) + "|phrase " + std::to_string(i) + " here|v[i1]agra" +
                     std::to_string(i) + ")\\b";
    if (i % 5 == 0) re = "\xE4\xBB\xA3\xE5\xBC\x80" + std::to_string(i);  // 代开N
    if (target == "url") re = "^https?://[^/]*\\.example" + std::to_string(i) + "/";
    o.rules.push_back(Rule("R" + std::to_string(i), target, re));
  }
  o.builtin_checks = true;
  auto known = [](const std::string& s) { return s == "R1" || s == "R2" || Scorer::FindBuiltin(s) != nullptr; };
  o.metas.push_back({"M1", MetaExpression::Parse("R1 && HTML_ONLY", known).value(), 1});
  o.metas.push_back({"M2", MetaExpression::Parse("(R1 + R2 + URL_SHORTENER) >= 2", known).value(), 1});
  o.reject_score = 15;
  return Scorer(std::move(o));
}

Message MakeMessage(std::size_t target_bytes) {
  // "中文邮件内容，欢迎订阅我们的新闻。" in GB2312, base64-wrapped below as QP-free 8-bit text.
  const std::string zh = "\xD6\xD0\xCE\xC4\xD3\xCA\xBC\xFE\xC4\xDA\xC8\xDD\xA3\xAC\xBB\xB6\xD3\xAD\xB6\xA9\xD4\xC4\xCE\xD2\xC3\xC7\xB5\xC4\xD0\xC2\xCE\xC5\xA1\xA3";
  std::string plain, html;
  while (plain.size() + html.size() < target_bytes - 1200) {
    plain += "Dear customer, your weekly newsletter about gardening tools and offers. " + zh + "\r\n";
    html += "<p>Dear customer, see <a href=\"https://shop.example/item?id=" + std::to_string(html.size()) +
            "\">our new items</a> &amp; offers.</p>\r\n";
  }
  Message m;
  m.headers = {{"From", "News <news@shop.example>"},
               {"To", "bob@dest.example"},
               {"Subject", "=?gb2312?B?1tDOxA==?= weekly news"},
               {"Date", "Mon, 3 Jun 2024 10:00:00 +0800"},
               {"Message-ID", "<1.2@shop.example>"},
               {"X-Mailer", "ShopMailer 2.0"},
               {"MIME-Version", "1.0"},
               {"Content-Type", "multipart/mixed; boundary=\"outer\""}};
  m.body = "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
           "--alt\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + plain +
           "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + html + "</body></html>\r\n--alt--\r\n"
           "--outer\r\nContent-Type: application/pdf; name=\"catalogue.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"catalogue.pdf\"\r\n\r\n"
           "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+CnN0cmVhbQp4nCvkMlAw\r\n"
           "--outer--\r\n";
  return m;
}

// 5 KB and 50 KB messages, 300 and 500 rules.
void SizesAndRules(benchmark::internal::Benchmark* b) {
  for (const int64_t size : {5 * 1024, 50 * 1024}) {
    for (const int64_t rules : {300, 500}) b->Args({size, rules});
  }
}

void BM_ParseAndScore(benchmark::State& state) {
  const Scorer scorer = MakeScorer(static_cast<int>(state.range(1)));
  const Message m = MakeMessage(static_cast<std::size_t>(state.range(0)));
  const Envelope env{.sender = "bounce@shop.example", .recipients = 1};
  for (auto _ : state) {
    ContentResult r = scorer.Score(m, env);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(m.body.size()));
}
BENCHMARK(BM_ParseAndScore)->Apply(SizesAndRules)->Unit(benchmark::kMicrosecond);

void BM_ParseAndScoreWithLearned(benchmark::State& state) {
  const Scorer scorer = MakeScorer(static_cast<int>(state.range(1)), true);
  const Message m = MakeMessage(static_cast<std::size_t>(state.range(0)));
  const Envelope env{.sender = "bounce@shop.example", .recipients = 1};
  for (auto _ : state) {
    ContentResult r = scorer.Score(m, env);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndScoreWithLearned)->Apply(SizesAndRules)->Unit(benchmark::kMicrosecond);

// Tokenise once + classify + SimHash + 10,000-entry fingerprint scan, on an
// already parsed message: the learned signals' own cost.
void BM_LearnedSignalsOnly(benchmark::State& state) {
  const Scorer scorer = MakeScorer(0, true);
  const Message m = MakeMessage(static_cast<std::size_t>(state.range(0)));
  const ParsedMessage parsed = Parse(m);
  const Envelope env;
  for (auto _ : state) {
    ContentResult r = scorer.Score(m, parsed, env);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LearnedSignalsOnly)->Arg(5 * 1024)->Arg(50 * 1024)->Unit(benchmark::kMicrosecond);

void BM_ParseOnly(benchmark::State& state) {
  const Message m = MakeMessage(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    ParsedMessage p = Parse(m);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnly)->Arg(5 * 1024)->Arg(50 * 1024)->Unit(benchmark::kMicrosecond);

void BM_E2EMessage(benchmark::State& state) {
  const auto snapshot = config::LoadSnapshotFromText(bench::RealisticPolicyYaml("127.0.0.1:0"), "realistic");
  if (!snapshot.ok()) {
    state.SkipWithError(std::string(snapshot.status().message()).c_str());
    return;
  }
  const Message m = SplitRawMessage(bench::BenchMessage(bench::BenchSender(0), bench::BenchRecipient(0),
                                                        static_cast<std::size_t>(state.range(0))));
  const Envelope env{.sender = bench::BenchSender(0), .recipients = 1};
  for (auto _ : state) {
    ContentResult r = (*snapshot)->content.Score(m, env);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_E2EMessage)->Arg(5 * 1024)->Arg(50 * 1024)->Unit(benchmark::kMicrosecond);

// Every message of HIVE_BENCH_CORPUS in turn, 500 rules, learned signals.
void BM_ScoreCorpus(benchmark::State& state, std::vector<Message> messages) {
  const Scorer scorer = MakeScorer(500, true);
  const Envelope env{.sender = "bounce@shop.example", .recipients = 1};
  std::size_t i = 0;
  for (auto _ : state) {
    ContentResult r = scorer.Score(messages[i], env);
    benchmark::DoNotOptimize(r);
    i = i + 1 == messages.size() ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["messages"] = static_cast<double>(messages.size());
}

std::vector<Message> ReadCorpus(const char* dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  // At most 2,000, spread evenly over the sorted names (every folder of a corpus).
  const std::size_t n = std::min<std::size_t>(files.size(), 2000);
  std::vector<Message> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::ifstream in(files[i * files.size() / n], std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    out.push_back(SplitRawMessage(s.str()));
  }
  return out;
}

}  // namespace
}  // namespace hive::policy::content

int main(int argc, char** argv) {
  if (const char* dir = std::getenv("HIVE_BENCH_CORPUS")) {
    std::vector<hive::policy::content::Message> messages = hive::policy::content::ReadCorpus(dir);
    if (!messages.empty()) {
      benchmark::RegisterBenchmark("BM_ScoreCorpus/500", hive::policy::content::BM_ScoreCorpus, std::move(messages))
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
