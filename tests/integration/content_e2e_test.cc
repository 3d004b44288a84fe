// Content scoring through the real path (MTA -> hive-milter -> hive-policyd):
// a Chinese spam in GB18030 HTML with an RFC 2047 subject is refused with
// 550 5.7.1, a multipart ham passes, and a message over a parse limit gets a
// clear permanent decision (never a 4xx the client would retry forever).
// Runs on every MTA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/hive_stack.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kDeliveryTimeout = std::chrono::seconds(20);

// The rules are written in UTF-8; the mail carries GB18030.
constexpr char kPolicy[] = R"(
content:
  rules:
    - {name: ZH_INVOICE, target: body, regex: "代开发票", weight: 6}
    - {name: ZH_SUBJ_FREE, target: subject, regex: "免费", weight: 3}
  metas:
    - {name: ZH_INVOICE_HTML, expression: "ZH_INVOICE && HTML_ONLY", weight: 2}
  checks:
    enabled: true
    weights: [{name: MIME_LIMIT_DEPTH, weight: 20}]
  parse_limits: {max_depth: 3}
  reject_score: 10
)";

class ContentEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { stack_ = std::make_unique<HiveStack>(StackOptions{.mta = GetParam(), .policy_yaml = kPolicy}); }
  std::unique_ptr<HiveStack> stack_;
};

TEST_P(ContentEndToEndTest, Gb18030SpamIsRefusedWhileMultipartHamPasses) {
  // Subject "免费 offer" (GB2312 in an RFC 2047 word); body "本公司代开发票，欢迎来电"
  // as GB18030 HTML in base64.
  const std::string spam = MakeMessage(
      "promo@spam.example", "bob@dest.example", "=?gb2312?B?w+K30Q==?= offer",
      "PGh0bWw+PGJvZHk+PHA+sb65q8u+tPq/qreixrGjrLu2063AtLXnPC9wPjwvYm9keT48L2h0bWw+",
      {"MIME-Version: 1.0", "Content-Type: text/html; charset=GB18030", "Content-Transfer-Encoding: base64"});
  Transaction t = SendMail(stack_->smtp_port(), "promo@spam.example", {"bob@dest.example"}, spam);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("5.7.1"));
  EXPECT_THAT(t.data.ToString(), HasSubstr("ZH_INVOICE"));

  const std::string ham = MakeMessage(
      "orders@shop.example", "bob@dest.example", "=?utf-8?B?6K6i5Y2VIDIwMDE=?=",  // "订单 2001"
      "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour order 2001 has shipped.\r\n"
      "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Your order 2001 has shipped.</p>\r\n"
      "--b1\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; "
      "filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n",
      {"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b1\""});
  t = SendMail(stack_->smtp_port(), "orders@shop.example", {"bob@dest.example"}, ham);
  ASSERT_EQ(t.data.code, 250) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(stack_->sink().WaitForMessageContaining("Your order 2001 has shipped", kDeliveryTimeout),
              HasSubstr("invoice.pdf"));
}

TEST_P(ContentEndToEndTest, MessageOverAParseLimitGetsAPermanentVerdict) {
  std::string body;
  std::string tail;
  for (int i = 0; i < 6; ++i) {
    body += "--n" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=\"n" + std::to_string(i + 1) +
            "\"\r\n\r\n";
    tail = "--n" + std::to_string(i) + "--\r\n" + tail;
  }
  body += "--n6\r\nContent-Type: text/plain\r\n\r\nnested too deep\r\n--n6--\r\n" + tail;
  const std::string deep = MakeMessage("a@deep.example", "bob@dest.example", "deep", body,
                                       {"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"n0\""});
  Transaction t = SendMail(stack_->smtp_port(), "a@deep.example", {"bob@dest.example"}, deep);
  EXPECT_EQ(t.data.code, 550) << t.data.ToString() << stack_->Diagnostics();
  EXPECT_THAT(t.data.ToString(), HasSubstr("MIME_LIMIT_DEPTH"));
}

INSTANTIATE_TEST_SUITE_P(Mtas, ContentEndToEndTest, ::testing::ValuesIn(AllMtas()),
                         [](const ::testing::TestParamInfo<std::string>& mta) { return mta.param; });

}  // namespace
}  // namespace hive::testing
