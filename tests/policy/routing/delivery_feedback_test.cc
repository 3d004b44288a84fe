// Which replies the default feedback patterns count as blocks: the common
// block and throttling replies of the big providers do, greylisting and
// ordinary failures do not. Real reply texts, as Postfix logs them after
// "said: " (the follower passes "<dsn> <reply>").
#include "routing/delivery_feedback.h"

#include <gtest/gtest.h>

namespace hive::policy::routing {
namespace {

struct Case {
  const char* name;
  DeliveryStatus status;
  const char* dsn;
  const char* reply;
  bool block;
};

constexpr DeliveryStatus kDeferred = DeliveryStatus::kDeferred;
constexpr DeliveryStatus kBounced = DeliveryStatus::kBounced;

const Case kCases[] = {
    // Blocks and throttling.
    {"421 closing", kDeferred, "4.7.0", "421 4.7.0 Try again later, closing connection", true},
    {"421 with another status", kDeferred, "4.4.2", "421 4.4.2 mx.example.net closing transmission channel", true},
    {"421 rate limited", kDeferred, "4.7.0", "421 4.7.0 [192.0.2.4] rate limited, please slow down", true},
    {"gmail 4.7.28", kDeferred, "4.7.28",
     "421-4.7.28 [192.0.2.4] Our system has detected an unusual rate of unsolicited mail originating from your "
     "IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.",
     true},
    {"gmail 4.7.28 without 421", kDeferred, "4.7.28", "450 4.7.28 unusual rate", true},
    {"5.7.1 blocked", kBounced, "5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.4] blocked", true},
    {"spamhaus", kBounced, "5.7.1",
     "550 5.7.1 Service unavailable; client [192.0.2.4] blocked using zen.spamhaus.org", true},
    {"outlook S3140", kBounced, "5.7.1",
     "550 5.7.1 Unfortunately, messages from [192.0.2.4] weren't sent. Please contact your Internet service "
     "provider since part of their network is on our block list (S3140).",
     true},
    {"outlook rate limited", kDeferred, "4.7.650",
     "451 4.7.650 The mail server [192.0.2.4] has been temporarily rate limited due to IP reputation.", true},
    {"outlook server busy", kDeferred, "4.7.500", "451 4.7.500 Server busy. Please try again later from [192.0.2.4]. (S77714)",
     true},
    {"yahoo TSS04", kDeferred, "4.7.0",
     "421 4.7.0 [TSS04] Messages from 192.0.2.4 temporarily deferred due to unexpected volume or user complaints",
     true},
    {"yahoo TSS04 as 451", kDeferred, "4.7.1", "451 4.7.1 [TSS04] Messages from 192.0.2.4 temporarily deferred",
     true},
    {"netease", kDeferred, "4.0.0", "451 RP:CEL 192.0.2.4 too many connections", true},
    {"qq", kBounced, "5.0.0", "550 Ip frequency limited", true},
    // Greylisting: not about the address's reputation.
    {"postgrey", kDeferred, "4.2.0",
     "450 4.2.0 <bob@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/", false},
    {"greylisting 4.7.1", kDeferred, "4.7.1", "451 4.7.1 Greylisting in action, please come back later", false},
    {"greylisted 421", kDeferred, "4.7.0", "421 4.7.0 greylisted, try again later", false},
    {"try again later 4.7.1", kDeferred, "4.7.1", "451 4.7.1 Please try again later", false},
    {"try again later 4.2.0", kDeferred, "4.2.0", "450 4.2.0 Try again later", false},
    // Ordinary failures.
    {"mailbox full", kDeferred, "4.2.2", "452 4.2.2 Mailbox full", false},
    {"unknown user", kBounced, "5.1.1", "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
     false},
    {"connection timed out", kDeferred, "4.4.1", "connect to mx.example.net[192.0.2.9]:25: Connection timed out",
     false},
    {"dmarc", kBounced, "5.7.26", "550 5.7.26 Unauthenticated email is not accepted from this domain", false},
    // A sent message is never a block, whatever its text.
    {"sent", DeliveryStatus::kSent, "2.0.0", "250 2.0.0 Ok: blocked word in the queue id", false},
};

TEST(BlockClassifierTest, DefaultPatternsCountBlocksNotGreylistingOrOrdinaryFailures) {
  const BlockClassifier defaults;
  for (const Case& c : kCases) {
    const BlockClassifier::Classification got = defaults.Classify(c.status, c.dsn, c.reply);
    EXPECT_EQ(!got.block.empty(), c.block) << c.name << ": block pattern \"" << got.block << "\", ignored by \""
                                          << got.ignored << "\"";
  }
}

TEST(BlockClassifierTest, AnIgnorePatternVetoesAMatchAndSaysWhich) {
  const BlockClassifier defaults;
  const auto got = defaults.Classify(kDeferred, "4.7.0", "421 4.7.0 Greylisting in action");
  EXPECT_EQ(got.block, "");
  EXPECT_EQ(got.ignored, BlockClassifier::DefaultIgnorePatterns()[0]);
  // An outcome no block pattern matches names no ignore pattern either.
  EXPECT_EQ(defaults.Classify(kDeferred, "4.2.2", "452 Mailbox full").ignored, "");
}

TEST(BlockClassifierTest, OwnListsReplaceTheDefaults) {
  const BlockClassifier mine(*BlockClassifier::Compile({"TSS04"}), *BlockClassifier::Compile({"^$"}));
  EXPECT_NE(mine.Match(kDeferred, "4.7.1", "451 4.7.1 [TSS04] deferred, greylisted"), "");
  EXPECT_EQ(mine.Match(kDeferred, "4.7.0", "421 4.7.0 rate limited"), "");
  const absl::StatusOr<BlockClassifier::Patterns> bad = BlockClassifier::Compile({"ok", "("});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 4), "[1]:");
}

}  // namespace
}  // namespace hive::policy::routing
