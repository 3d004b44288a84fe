#include "content/classifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "content/token_store.h"
#include "learned_fixtures.h"

namespace hive::policy::content {
namespace {

using testing::PlainMessage;
using testing::ReadFixture;
using testing::TrainOnFixtures;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid());
}

std::shared_ptr<Classifier> Trained(ClassifierOptions o = {.min_learns = 8}) {
  auto c = Classifier::Open("", o);
  EXPECT_TRUE(c.ok());
  TrainOnFixtures(**c);
  return *c;
}

TEST(ClassifierTest, SaysNothingUntilBothClassesAreLearnedEnough) {
  auto c = *Classifier::Open("", {.min_learns = 8});
  TrainOnFixtures(*c, 7);
  EXPECT_FALSE(c->Classify(Parse(ReadFixture("spam-8.eml"))).ready);
  c->Learn(ReadFixture("spam-8.eml"), true);
  EXPECT_FALSE(c->Classify(Parse(ReadFixture("spam-8.eml"))).ready) << "ham has only 7";
  c->Learn(ReadFixture("ham-8.eml"), false);
  EXPECT_TRUE(c->Classify(Parse(ReadFixture("spam-8.eml"))).ready);
}

TEST(ClassifierTest, SeparatesUnseenChineseSpamFromHam) {
  auto c = Trained();
  // Unseen text mixing phrases of the training spam (no exact sentence).
  const Classification spam =
      c->Classify(Parse(PlainMessage("优惠", "代开增值税发票，点数优惠，价格优惠，欢迎来电咨询王经理，报名从速，机会难得。")));
  ASSERT_TRUE(spam.ready);
  // Sixteen training messages: confident, not certain.
  EXPECT_GT(spam.probability, 0.75);
  const Classification ham =
      c->Classify(Parse(PlainMessage("组会", "下周的组会讨论测试报告和项目进度，请大家准时参加，地点在会议室。")));
  ASSERT_TRUE(ham.ready);
  EXPECT_LT(ham.probability, 0.25);
}

TEST(ClassifierTest, TooFewKnownTokensIsNotAVerdict) {
  // Shape tokens count as known (every message has about ten): without
  // them, two unknown-vocabulary messages.
  auto c = Trained({.min_learns = 8, .structure_tokens = false});
  EXPECT_FALSE(c->Classify(Parse(PlainMessage("x", "发票"))).ready);
  EXPECT_FALSE(c->Classify(Parse(PlainMessage("x", "entirely unknown vocabulary here"))).ready);
}

// What a shared model (admin/shared_model.h) relies on: a message learned
// into a model holding only its tokens' entries and the totals gives those
// entries the values learning it into the whole model gives.
TEST(ClassifierTest, LearningIntoAPartialModelGivesTheWholeModelsValues) {
  auto whole = Trained();
  auto shared = Trained();
  Tokens tokens;
  whole->Features(Parse(ReadFixture("spam-1.eml")), tokens);
  const std::vector<std::uint64_t> features = tokens.features;
  const TokenStore before = whole->Model();
  TokenStore part(whole->Features());
  part.SetLearns(before.spam_learns(), before.ham_learns());
  for (std::uint64_t t : features) {
    if (const TokenCounts c = before.Find(t); c.spam + c.ham > 0) part.Set(t, c);
  }
  LearnInto(part, features, /*is_spam=*/true, whole->options());
  whole->Learn(features, true);
  shared->Merge(part);
  const TokenStore after = whole->Model(), merged = shared->Model();
  EXPECT_EQ(merged.spam_learns(), after.spam_learns());
  EXPECT_EQ(merged.ham_learns(), after.ham_learns());
  EXPECT_EQ(merged.size(), after.size());
  for (std::uint64_t t : features) {
    EXPECT_EQ(merged.Find(t).spam, after.Find(t).spam);
    EXPECT_EQ(merged.Find(t).weight, after.Find(t).weight) << t;
  }
  const Message unseen = PlainMessage("优惠", "代开增值税发票，点数优惠，欢迎来电咨询王经理。");
  EXPECT_EQ(shared->Classify(Parse(unseen)).probability, whole->Classify(Parse(unseen)).probability);
}

TEST(ClassifierTest, InstallRefusesAModelOfOtherFeatures) {
  auto c = Trained();
  auto without_shape = Trained({.min_learns = 8, .structure_tokens = false});
  const absl::Status refused = c->Install(without_shape->Model());
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("structure_tokens"));
  ASSERT_TRUE(c->Install(TokenStore(c->Features())).ok());
  EXPECT_EQ(c->stats().spam_learns, 0u);
}

TEST(ClassifierTest, SavesAtomicallyAndLoadsTheSameModel) {
  const std::string path = TempPath("bayes.db");
  auto c = Trained();
  ASSERT_EQ(c->Save().code(), absl::StatusCode::kFailedPrecondition) << "no path: refuses";
  ASSERT_TRUE(c->SaveTo(path).ok());
  auto loaded = Classifier::Open(path, {.min_learns = 8});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->stats().spam_learns, 8u);
  EXPECT_EQ((*loaded)->stats().ham_learns, 8u);
  EXPECT_EQ((*loaded)->stats().tokens, c->stats().tokens);
  const ParsedMessage m = Parse(ReadFixture("spam-3.eml"));
  EXPECT_DOUBLE_EQ((*loaded)->Classify(m).probability, c->Classify(m).probability);
  // Learning then Save() through the loaded object rewrites the file.
  (*loaded)->Learn(ReadFixture("spam-1.eml"), true);
  ASSERT_TRUE((*loaded)->Save().ok());
  EXPECT_EQ((*Classifier::Open(path))->stats().spam_learns, 9u);
  std::remove(path.c_str());
}

TEST(ClassifierTest, MissingFileIsAnEmptyModelCorruptFileAnError) {
  EXPECT_EQ((*Classifier::Open(TempPath("absent")))->stats().tokens, 0u);
  const std::string path = TempPath("corrupt.db");
  auto c = Trained();
  ASSERT_TRUE(c->SaveTo(path).ok());
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::string bad : {data.substr(0, data.size() - 20), std::string("garbage"),
                          data.substr(0, 40) + char(data[40] ^ 1) + data.substr(41)}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    EXPECT_FALSE(Classifier::Open(path).ok()) << bad.size();
  }
  std::remove(path.c_str());
}

TEST(TokenStoreTest, CountsSurviveGrowthAndRoundTrip) {
  TokenStore s;
  std::vector<std::uint64_t> tokens;
  for (std::uint64_t i = 0; i < 5000; ++i) tokens.push_back(i * 7919);  // includes 0
  s.Learn(tokens, true);
  s.Learn(std::span(tokens).first(10), false);
  EXPECT_EQ(s.size(), 5000u);
  EXPECT_EQ(s.Find(0).spam, 1u);
  EXPECT_EQ(s.Find(7919 * 9).ham, 1u);
  EXPECT_EQ(s.Find(7919 * 10).ham, 0u);
  EXPECT_EQ(s.Find(3).spam, 0u);
  auto back = TokenStore::Parse(s.Serialize());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 5000u);
  EXPECT_EQ(back->Find(7919 * 4999).spam, 1u);
  EXPECT_EQ(back->spam_learns(), 1u);
  EXPECT_EQ(back->ham_learns(), 1u);
}

TEST(TokenStoreTest, WeightsSurviveRoundTripAndAVersion1FileLoadsWithoutThem) {
  TokenStore s;
  const std::vector<std::uint64_t> tokens = {11, 22, 33};
  s.Learn(tokens, true);
  s.AddWeight(std::span(tokens).first(2), 1.5f);
  s.AddWeight(std::span(tokens).first(1), -0.25f);
  auto back = TokenStore::Parse(s.Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FLOAT_EQ(back->Find(11).weight, 1.25f);
  EXPECT_FLOAT_EQ(back->Find(22).weight, 1.5f);
  EXPECT_FLOAT_EQ(back->Find(33).weight, 0.0f);
  EXPECT_EQ(back->Find(33).spam, 1u);
}

// A well-formed file of an older format, written byte by byte: 1 spam and
// 2 ham learned, one token. Version 1 (the old Bayes classifier's counts)
// has no weights; version 2 has weights but no tokenizer version.
std::string OldFormatModel(int version) {
  std::string v = version == 1 ? "HIVEBAY1" : "HIVEBAY2";
  auto put = [&](std::uint64_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) v.push_back(static_cast<char>(x >> (8 * i)));
  };
  put(1, 8), put(2, 8), put(1, 8), put(77, 8), put(1, 4), put(2, 4);
  if (version == 2) put(0x3fc00000, 4);  // weight 1.5f
  std::uint64_t h = 14695981039346656037ull;
  for (char c : v) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  put(h, 8);
  return v;
}
std::string FormatOneModel() { return OldFormatModel(1); }

TEST(TokenStoreTest, AFormatOneModelIsRefusedWithTheFix) {
  // Loaded, it would have every weight 0 and score every message 0.5.
  auto old = TokenStore::Parse(FormatOneModel());
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("format-1 model"));
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("hive-content-learn"));
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("hivectl learn"));
  // Through the classifier: the error names the file.
  const std::string path = TempPath("v1.model");
  std::ofstream(path, std::ios::binary) << FormatOneModel();
  auto c = Classifier::Open(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr(path + ": a format-1 model"));
  std::remove(path.c_str());
}

TEST(TokenStoreTest, AFormatTwoModelIsRefusedWithTheFix) {
  // Weights, but no record of the tokens they were learned from.
  auto old = TokenStore::Parse(OldFormatModel(2));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("format-2 model"));
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("tokenizer version"));
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("hive-content-learn"));
  EXPECT_THAT(std::string(old.status().message()), ::testing::HasSubstr("hivectl learn"));
}

TEST(TokenStoreTest, TheFeatureSetSurvivesRoundTrip) {
  TokenStore s({.tokenizer_version = 7, .flags = 3});
  s.Learn(std::vector<std::uint64_t>{5}, false);
  auto back = TokenStore::Parse(s.Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->features().tokenizer_version, 7u);
  EXPECT_EQ(back->features().flags, 3u);
  EXPECT_EQ(back->ham_learns(), 1u);
}

// Writes a model of `features` with one learned message of each class.
std::string WriteModel(const std::string& name, FeatureSet features) {
  TokenStore s(features);
  s.Learn(std::vector<std::uint64_t>{1, 2}, true);
  s.Learn(std::vector<std::uint64_t>{3}, false);
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << s.Serialize();
  return path;
}

TEST(ClassifierTest, AModelOfAnotherTokenizerVersionIsRefusedWithTheFix) {
  const std::string path = WriteModel("other-tokenizer.model", {kTokenizerVersion + 1, 1});
  auto c = Classifier::Open(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(c.status().message());
  EXPECT_THAT(message, ::testing::HasSubstr(path + ": the model was learned with tokenizer version " +
                                            std::to_string(kTokenizerVersion + 1)));
  EXPECT_THAT(message, ::testing::HasSubstr("hive-content-learn"));
  EXPECT_THAT(message, ::testing::HasSubstr("hivectl learn"));
  // The same file with this build's version loads.
  std::remove(path.c_str());
  const std::string ours = WriteModel("this-tokenizer.model", {kTokenizerVersion, 1});
  auto loaded = Classifier::Open(ours);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->stats().spam_learns, 1u);
  std::remove(ours.c_str());
}

TEST(ClassifierTest, AModelLearnedWithOtherStructureTokensIsRefused) {
  const std::string path = TempPath("structure.model");
  auto with = Trained();  // structure_tokens: true, the default
  ASSERT_TRUE(with->SaveTo(path).ok());
  auto c = Classifier::Open(path, {.structure_tokens = false});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              ::testing::HasSubstr("learned with message-shape tokens and content.bayes.structure_tokens is false"));
  EXPECT_TRUE(Classifier::Open(path).ok());
  // And the other way round; a Reset() model keeps its options' features.
  auto without = Trained({.min_learns = 8, .structure_tokens = false});
  without->Reset();
  without->Learn(ReadFixture("spam-1.eml"), true);
  ASSERT_TRUE(without->SaveTo(path).ok());
  c = Classifier::Open(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr("--no-structure-tokens"));
  EXPECT_TRUE(Classifier::Open(path, {.structure_tokens = false}).ok());
  std::remove(path.c_str());
}

TEST(ClassifierTest, LearningAMistakeMovesTheModelMoreThanARightAnswer) {
  auto c = Trained();
  Tokens spam;
  c->Features(Parse(ReadFixture("spam-2.eml")), spam);
  const double before = c->Classify(spam.features).probability;
  ASSERT_GT(before, 0.5);
  // Learning it again as spam: a small step (up, or down by a hair where
  // the L2 penalty outweighs what is left of the error).
  auto again = Trained();
  again->Learn(spam.features, true);
  const double up = again->Classify(spam.features).probability - before;
  // Learning it as ham (a correction): a larger step down.
  auto corrected = Trained();
  corrected->Learn(spam.features, false);
  const double down = before - corrected->Classify(spam.features).probability;
  EXPECT_GT(down, 10 * std::abs(up));
}

// The probability of a message of one token (feature value 1/sqrt(2))
// after learning it, and a ham of another token, `times` times each.
double OneTokenSpam(double l2, int times) {
  auto c = *Classifier::Open("", {.min_learns = 1, .min_tokens = 1, .l2 = l2});
  const std::vector<std::uint64_t> spam = {101}, ham = {202};
  for (int i = 0; i < times; ++i) {
    c->Learn(spam, true);
    c->Learn(ham, false);
  }
  const Classification r = c->Classify(spam);
  EXPECT_TRUE(r.ready);
  return r.probability;
}

TEST(ClassifierTest, TheL2PenaltyStopsAOneClassTokenGrowingWithoutBound) {
  // Without the penalty the weight keeps growing: p creeps towards 1.
  const double free100 = OneTokenSpam(0, 100), free1000 = OneTokenSpam(0, 1000);
  EXPECT_GT(free1000, free100);
  EXPECT_GT(free1000, 0.999);
  // With it, the weight w settles where the pull back balances the error,
  // 1 - p = l2 * w, p = 1 / (1 + exp(-w / sqrt(2))): for l2 = 0.01, w = 4.37 and p = 0.956.
  const double l2 = 0.01;
  const double settled = OneTokenSpam(l2, 1000);
  EXPECT_DOUBLE_EQ(settled, OneTokenSpam(l2, 2000)) << "it has stopped moving";
  const double w = std::sqrt(2.0) * std::log(settled / (1 - settled));
  EXPECT_NEAR(1 - settled, l2 * w, 1e-4);
  EXPECT_LT(settled, 0.97);
  EXPECT_GT(settled, 0.9);
}

TEST(ClassifierTest, TrainIsDeterministic) {
  std::vector<LabelledFeatures> batch;
  for (int i = 1; i <= 8; ++i) {
    for (bool spam : {true, false}) {
      Tokens t;
      Tokenize(Parse(ReadFixture(std::string(spam ? "spam-" : "ham-") + std::to_string(i) + ".eml")), t);
      batch.push_back({t.features, spam});
    }
  }
  auto a = *Classifier::Open("", {.min_learns = 8});
  auto b = *Classifier::Open("", {.min_learns = 8});
  a->Train(batch, 3);
  b->Train(batch, 3);
  const ParsedMessage m = Parse(PlainMessage("优惠", "代开增值税发票，点数优惠，欢迎来电咨询。"));
  ASSERT_TRUE(a->Classify(m).ready);
  EXPECT_DOUBLE_EQ(a->Classify(m).probability, b->Classify(m).probability);
  EXPECT_EQ(a->stats().spam_learns, 8u);
  EXPECT_GT(a->Classify(m).probability, 0.5);
  EXPECT_LT(a->Classify(Parse(PlainMessage("组会", "下周的组会讨论测试报告，请大家准时参加。"))).probability, 0.5);
}

}  // namespace
}  // namespace hive::policy::content
