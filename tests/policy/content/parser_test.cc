// The MIME parser, HTML to text and URL extraction.
#include "content/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "content/html.h"
#include "content/url.h"

namespace hive::policy::content {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kZhongWen = "\xE4\xB8\xAD\xE6\x96\x87";                           // 中文
const std::string kMianFeiFaPiao = "\xE5\x85\x8D\xE8\xB4\xB9\xE5\x8F\x91\xE7\xA5\xA8";  // 免费发票

ParsedMessage ParseRaw(const std::string& raw, const Limits& limits = {}) {
  return Parse(SplitRawMessage(raw), limits);
}

std::vector<std::string> Hosts(const std::vector<Url>& urls) {
  std::vector<std::string> out;
  for (const Url& u : urls) out.push_back(u.host);
  return out;
}

TEST(ParserTest, MultipartAlternativeWithGbkHtmlAndBase64Attachment) {
  const std::string raw =
      "From mbox-line\r\n"
      "From: =?gb2312?B?1tDOxA==?= <a@shop.example>\r\n"
      "Subject: =?gb2312?B?w+K30beixrE=?=\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
      "\r\n"
      "preamble is ignored\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n"
      "\r\n"
      "--inner\r\n"
      "Content-Type: text/plain; charset=gb2312\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "w+K30beixrE=\r\n"
      "--inner\r\n"
      "Content-Type: text/html; charset=\"gbk\"\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "<html><head><title>t</title></head><body><p>=D6=D0=CE=C4</p>"
      "<a href=3D\"http://evil.example/x\">www.bank.example</a></body></html>\r\n"
      "--inner--\r\n"
      "--outer\r\n"
      "Content-Type: application/octet-stream; name=\"=?gb2312?B?w+K30Q==?=.exe\"\r\n"
      "Content-Disposition: attachment\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAA\r\n"
      "--outer--\r\n"
      "epilogue\r\n";
  ParsedMessage p = ParseRaw(raw);
  EXPECT_EQ(p.subject, kMianFeiFaPiao);
  EXPECT_THAT(p.text, HasSubstr(kMianFeiFaPiao));
  EXPECT_THAT(p.text, HasSubstr(kZhongWen));
  EXPECT_THAT(p.text, HasSubstr("www.bank.example"));
  EXPECT_THAT(p.text, Not(HasSubstr("preamble")));
  EXPECT_THAT(p.text, Not(HasSubstr("epilogue")));
  EXPECT_EQ(p.parts, 5);
  EXPECT_EQ(p.plain_parts, 1);
  EXPECT_EQ(p.html_parts, 1);
  ASSERT_EQ(p.links.size(), 1u);
  EXPECT_EQ(p.links[0].href, "http://evil.example/x");
  EXPECT_EQ(p.links[0].text, "www.bank.example");
  EXPECT_THAT(Hosts(p.urls), ElementsAre("evil.example", "www.bank.example"));
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].filename, "\xE5\x85\x8D\xE8\xB4\xB9.exe");  // 免费.exe
  EXPECT_EQ(p.attachments[0].declared_type, "application/octet-stream");
  EXPECT_EQ(p.attachments[0].sniffed_type, "application/x-msdownload");
  EXPECT_EQ(p.attachments[0].size, 36u);
  EXPECT_FALSE(p.limits.any());
}

TEST(ParserTest, BrokenStructureDegradesToTextWithFacts) {
  // Multipart without any boundary line, and a base64 declaration over plain
  // text: both seen in the Chinese corpus.
  ParsedMessage p = ParseRaw(
      "Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\nplain \xD6\xD0\xCE\xC4 text\r\n");
  EXPECT_TRUE(p.anomalies.missing_boundary);
  EXPECT_THAT(p.text, HasSubstr("plain " + kZhongWen));
  p = ParseRaw("Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               "this is not base64 at all, just text.\r\n");
  EXPECT_TRUE(p.anomalies.bad_base64);
  EXPECT_THAT(p.text, HasSubstr("not base64 at all"));
  p = ParseRaw("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n"
               "this line is no header\r\n\r\nbody\r\n--b--\r\n");
  EXPECT_TRUE(p.anomalies.bad_header_line);
  EXPECT_EQ(p.text, "body");
}

TEST(ParserTest, DepthLimitIsAFactNotACrash) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
  std::string tail;
  for (int i = 1; i < 40; ++i) {
    raw += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n";
    tail = "--b" + std::to_string(i - 1) + "--\r\n" + tail;
  }
  raw += "--b39\r\n\r\ndeep text\r\n--b39--\r\n" + tail;
  Limits limits;
  limits.max_depth = 5;
  ParsedMessage p = ParseRaw(raw, limits);
  EXPECT_TRUE(p.limits.depth);
  EXPECT_THAT(p.text, Not(HasSubstr("deep text")));
  limits.max_depth = 50;
  EXPECT_THAT(ParseRaw(raw, limits).text, HasSubstr("deep text"));
}

TEST(ParserTest, PartsHeadersLineSizeTextAndTimeLimits) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 20; ++i) raw += "--b\r\n\r\npart " + std::to_string(i) + "\r\n";
  raw += "--b--\r\n";
  Limits limits;
  limits.max_parts = 5;
  ParsedMessage p = ParseRaw(raw, limits);
  EXPECT_TRUE(p.limits.parts);
  EXPECT_EQ(p.parts, 5);
  EXPECT_THAT(p.text, HasSubstr("part 3"));
  EXPECT_THAT(p.text, Not(HasSubstr("part 4")));

  Message m;
  for (int i = 0; i < 10; ++i) m.headers.push_back({"X-H", "v"});
  m.body = std::string(300, 'a') + "\r\nshort\r\n";
  limits = Limits{};
  limits.max_headers = 4;
  limits.max_line_bytes = 100;
  limits.max_message_bytes = 200;
  p = Parse(m, limits);
  EXPECT_TRUE(p.limits.headers);
  EXPECT_EQ(p.headers.size(), 4u);
  EXPECT_TRUE(p.limits.line);
  EXPECT_TRUE(p.limits.size);
  EXPECT_EQ(p.text.size(), 200u);

  limits = Limits{};
  limits.max_text_bytes = 10;
  p = Parse(m, limits);
  EXPECT_TRUE(p.limits.text);
  EXPECT_EQ(p.text.size(), 10u);

  // A zero decode budget is always exhausted: nothing is decoded, the fact
  // says why.
  limits = Limits{};
  limits.max_decode_time = std::chrono::nanoseconds(0);
  p = Parse(m, limits);
  EXPECT_TRUE(p.limits.time);
  EXPECT_TRUE(p.text.empty());
}

TEST(ParserTest, EmbeddedMessageIsParsed) {
  ParsedMessage p = ParseRaw(
      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain; charset=big5\r\n\r\n"
      "\xB5\x6F\xB2\xBC\r\n");
  EXPECT_EQ(p.parts, 2);
  EXPECT_THAT(p.text, HasSubstr("\xE7\x99\xBC\xE7\xA5\xA8"));
}

TEST(HtmlTest, VisibleTextLinksImagesEntities) {
  HtmlText h = HtmlToText(
      "<html><head><style>p{}</style></head><body><script>var x='<a href=\"http://hidden\">';</script>"
      "<!-- comment -->Hello&nbsp;&amp;&#20013;&#x6587;<br>"
      "<A HREF='http://t.example/a?b=1&amp;c=2'>Click <b>here</b></A>"
      "<img src=\"http://img.example/p.png\" alt=\"promo\"></body>");
  EXPECT_EQ(h.text, "Hello &" + kZhongWen + "\nClick here promo");
  ASSERT_EQ(h.links.size(), 1u);
  EXPECT_EQ(h.links[0].href, "http://t.example/a?b=1&c=2");
  EXPECT_EQ(h.links[0].text, "Click here");
  EXPECT_THAT(h.image_sources, ElementsAre("http://img.example/p.png"));
  EXPECT_EQ(HtmlToText("<p>unterminated <a href=").text, "unterminated");
}

TEST(UrlTest, SchemesBareDomainsAndObfuscations) {
  const std::string text = "see https://Example.COM/a, www.shop.example.net or buy.cn/x now. "
                           "hxxp://evil[.]ru/p and spam\xE3\x80\x82" "top site, mail me at bob@mail.example.com; "
                           "http://paypal.com@phish.example/login file.txt";
  std::vector<Url> urls = ExtractUrls(text);
  EXPECT_THAT(Hosts(urls), ElementsAre("example.com", "evil.ru", "phish.example", "www.shop.example.net",
                                       "buy.cn", "spam.top"));
  EXPECT_FALSE(urls[0].obfuscated);
  EXPECT_TRUE(urls[1].obfuscated);
  EXPECT_TRUE(urls[5].obfuscated);
  EXPECT_EQ(urls[0].url, "https://example.com/a");
  EXPECT_EQ(ExtractUrls("nothing here", 5).size(), 0u);
  Url u;
  EXPECT_FALSE(ParseUrl("mailto:a@b.example", u));
  EXPECT_FALSE(ParseUrl("javascript:alert(1)", u));
}

}  // namespace
}  // namespace hive::policy::content
