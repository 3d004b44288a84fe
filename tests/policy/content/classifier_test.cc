#include "content/classifier.h"

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

TEST(Chi2QTest, MatchesKnownValues) {
  // P(chi2 with 2 dof >= x) = exp(-x/2).
  EXPECT_NEAR(Chi2Q(2.0, 2), std::exp(-1.0), 1e-12);
  // 4 dof: exp(-m)(1 + m).
  EXPECT_NEAR(Chi2Q(6.0, 4), std::exp(-3.0) * 4.0, 1e-12);
  EXPECT_DOUBLE_EQ(Chi2Q(0, 10), 1.0);
  // Huge statistics neither overflow nor return garbage.
  EXPECT_LT(Chi2Q(5000, 300), 1e-100);
  EXPECT_GE(Chi2Q(5000, 300), 0.0);
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
  EXPECT_GT(spam.probability, 0.9);
  const Classification ham =
      c->Classify(Parse(PlainMessage("组会", "下周的组会讨论测试报告和项目进度，请大家准时参加，地点在会议室。")));
  ASSERT_TRUE(ham.ready);
  EXPECT_LT(ham.probability, 0.1);
}

TEST(ClassifierTest, TooFewKnownTokensIsNotAVerdict) {
  auto c = Trained();
  EXPECT_FALSE(c->Classify(Parse(PlainMessage("x", "发票"))).ready);
  EXPECT_FALSE(c->Classify(Parse(PlainMessage("x", "entirely unknown vocabulary here"))).ready);
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

}  // namespace
}  // namespace hive::policy::content
