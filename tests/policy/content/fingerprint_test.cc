#include "content/fingerprint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "content/tokenizer.h"

namespace hive::policy::content {
namespace {

std::uint64_t Fp(std::string_view text) {
  std::vector<std::uint64_t> tokens;
  TokenizeText(text, tokens);
  std::optional<std::uint64_t> h = SimHash(tokens, 20);
  EXPECT_TRUE(h.has_value()) << text;
  return h.value_or(0);
}

constexpr char kCampaign[] =
    "尊敬的张先生：您好！本公司常年代开各地增值税发票，点数优惠，可先验票后付款。"
    "另有专业代办各类证书业务，保证真实有效。联系人：王经理，手机：13800138000，"
    "QQ：123456789。如不需要此类信息，请回复退订，打扰之处敬请原谅。";
// The same campaign sent to another person by another account: other name,
// other phone, other contact.
constexpr char kVariant[] =
    "尊敬的李女士：您好！本公司常年代开各地增值税发票，点数优惠，可先验票后付款。"
    "另有专业代办各类证书业务，保证真实有效。联系人：刘经理，手机：13912345678，"
    "QQ：987654321。如不需要此类信息，请回复退订，打扰之处敬请原谅。";
constexpr char kHam[] =
    "明天下午三点在三楼会议室讨论项目进度，请准时参加。附件是上周的测试报告，"
    "请大家看一下有没有问题。数据库迁移脚本已经在测试环境跑过了，没有发现错误。";
constexpr char kEnglishHam[] =
    "Hi team, the build on the release branch is failing since this morning because the "
    "integration tests time out waiting for the sink; could someone take a look before the meeting?";

TEST(SimHashTest, NearDuplicateIsCloseUnrelatedIsFar) {
  EXPECT_LE(HammingDistance(Fp(kCampaign), Fp(kVariant)), 6);
  EXPECT_GT(HammingDistance(Fp(kCampaign), Fp(kHam)), 12);
  EXPECT_GT(HammingDistance(Fp(kCampaign), Fp(kEnglishHam)), 12);
  EXPECT_EQ(Fp(kCampaign), Fp(kCampaign));
}

TEST(SimHashTest, ShortTextsAreNotFingerprinted) {
  std::vector<std::uint64_t> tokens;
  TokenizeText("代开发票", tokens);
  EXPECT_FALSE(SimHash(tokens, 20).has_value());
}

std::string Hash(std::string_view text) {
  std::vector<std::uint64_t> tokens;
  TokenizeText(text, tokens);
  return ContentHash(tokens, 20);
}

TEST(ContentHashTest, OneTemplateWithOtherNumbersCaseAndSpacingHashesAlike) {
  const std::string campaign = Hash(kCampaign);
  ASSERT_EQ(campaign.size(), 32u);
  // The same text with other phone and QQ numbers: numbers count by shape.
  std::string renumbered = kCampaign;
  renumbered.replace(renumbered.find("13800138000"), 11, "13912345678");
  renumbered.replace(renumbered.find("123456789"), 9, "987654321");
  EXPECT_EQ(Hash(renumbered), campaign);
  EXPECT_EQ(Hash("Your ORDER 4471 is  waiting at our depot; pay the customs fee of 2 dollars at our secure portal "
                 "within 24 hours or the parcel goes back"),
            Hash("your order 9120 is waiting at our depot;\npay the customs fee of 3 dollars at our secure portal "
                 "within 48 hours or the parcel goes back"));
  // Another name is another text: near (SimHash), not equal.
  EXPECT_NE(Hash(kVariant), campaign);
  EXPECT_NE(Hash(kHam), campaign);
  EXPECT_EQ(Hash("代开发票"), "");  // short: alike by chance, not hashed
}

TEST(FingerprintStoreTest, MatchesNearDuplicatesOnly) {
  auto store = *FingerprintStore::Open("");
  ASSERT_TRUE(store->Add(Fp(kCampaign), "invoice-campaign").ok());
  std::optional<FingerprintMatch> m = store->Match(Fp(kVariant), 6);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->label, "invoice-campaign");
  EXPECT_FALSE(store->Match(Fp(kHam), 6).has_value());
  EXPECT_FALSE(store->Add(1, "two words").ok());
  EXPECT_TRUE(store->Remove(Fp(kCampaign)));
  EXPECT_FALSE(store->Remove(Fp(kCampaign)));
  EXPECT_FALSE(store->Match(Fp(kVariant), 6).has_value());
}

TEST(FingerprintStoreTest, PersistsAndReportsBadLines) {
  const std::string path = ::testing::TempDir() + "/fp." + std::to_string(::getpid());
  {
    auto store = *FingerprintStore::Open(path);  // missing: empty
    EXPECT_EQ(store->size(), 0u);
    ASSERT_TRUE(store->Add(0x0123456789abcdefull, "a").ok());
    ASSERT_TRUE(store->Add(Fp(kCampaign), "b").ok());
    ASSERT_TRUE(store->Save().ok());
  }
  auto loaded = FingerprintStore::Open(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->size(), 2u);
  EXPECT_EQ((*loaded)->Match(0x0123456789abcdefull, 0)->label, "a");
  std::ofstream(path, std::ios::trunc) << "# ok\n0123456789abcdef a\nnot-hex b\n";
  auto bad = FingerprintStore::Open(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":3:"), std::string::npos) << bad.status();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace hive::policy::content
