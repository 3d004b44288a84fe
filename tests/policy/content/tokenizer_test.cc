#include "content/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace hive::policy::content {
namespace {

std::vector<std::uint64_t> Tok(std::string_view text) {
  std::vector<std::uint64_t> out;
  TokenizeText(text, out);
  return out;
}

TEST(TokenizerTest, ChineseBecomesCharacterBigrams) {
  // 4 characters -> 3 bigrams; the comma separates two runs.
  EXPECT_EQ(Tok("代开发票").size(), 3u);
  EXPECT_EQ(Tok("代开，发票").size(), 2u);
  // An isolated character is a unigram.
  EXPECT_EQ(Tok("好").size(), 1u);
  // Same bigram, same hash, wherever it is.
  EXPECT_EQ(Tok("发票")[0], Tok("代开发票")[2]);
  EXPECT_NE(Tok("发票")[0], Tok("票发")[0]);
}

TEST(TokenizerTest, WordsAreLowerCasedAndNumbersReducedToTheirShape) {
  EXPECT_EQ(Tok("FREE"), Tok("free"));
  EXPECT_EQ(Tok("Call 13800138000"), Tok("call 13912345678"));
  EXPECT_NE(Tok("call 138"), Tok("call 13800138000"));
  EXPECT_EQ(Tok("order A12345"), Tok("order A67890"));
  EXPECT_TRUE(Tok("a").empty());  // one-letter words carry nothing
}

TEST(TokenizerTest, FullWidthAsciiFoldsAndMixedScriptsSplit) {
  EXPECT_EQ(Tok("ＦＲＥＥ"), Tok("free"));
  const auto mixed = Tok("免费free试用");
  ASSERT_EQ(mixed.size(), 3u);  // 免费, free, 试用
  EXPECT_EQ(mixed[1], Tok("free")[0]);
}

TEST(TokenizerTest, InvalidUtf8IsASeparatorNotACrash) {
  EXPECT_EQ(Tok("ab\xff\xfe" "cd").size(), 2u);
  EXPECT_EQ(Tok("\xe4\xbb").size(), 0u);  // truncated sequence
}

std::vector<std::uint64_t> Features(const ParsedMessage& p, bool structure) {
  Tokens t;
  Tokenize(p, t, structure);
  return t.features;
}

TEST(TokenizerTest, FeaturesAreUniqueAndIncludeSubjectFromAndUrlHosts) {
  ParsedMessage p;
  p.text = "spam spam spam";
  p.subject = "spam";
  p.headers = {{"From", "Sales <x@promo.example>"}};
  p.urls = {{"http://evil.example/", "evil.example", false}};
  Tokens t;
  Tokenize(p, t, /*structure=*/false);
  EXPECT_EQ(t.body.size(), 3u);
  // body "spam" (also the subject's word as text), subject "spam" (own
  // namespace), From domain, URL host and its top-level label.
  EXPECT_EQ(t.features.size(), 5u);
  EXPECT_TRUE(std::is_sorted(t.features.begin(), t.features.end()));
}

TEST(TokenizerTest, TheSubjectCountsAsTextToo) {
  ParsedMessage in_body, in_subject, neither;
  in_body.text = "invoice";
  in_subject.subject = "invoice";
  Tokens body, subject;
  Tokenize(in_body, body, false);
  Tokenize(in_subject, subject, false);
  ASSERT_EQ(body.features.size(), 1u);
  EXPECT_EQ(subject.features.size(), 2u);
  EXPECT_TRUE(std::binary_search(subject.features.begin(), subject.features.end(), body.features[0]));
  EXPECT_TRUE(subject.body.empty()) << "fingerprints read the body only";
}

TEST(TokenizerTest, UrlsGiveHostDomainTopLabelAndPathWords) {
  ParsedMessage host_only, with_path, other_host;
  host_only.urls = {{"http://a.shop.example.com/", "a.shop.example.com", false}};
  with_path.urls = {{"http://a.shop.example.com/cheap-meds/buy.php?id=123", "a.shop.example.com", false}};
  other_host.urls = {{"http://b.shop.example.com/", "b.shop.example.com", false}};
  const auto h = Features(host_only, false);
  const auto p = Features(with_path, false);
  const auto o = Features(other_host, false);
  // Host, registrable domain (example.com), top-level label (com).
  EXPECT_EQ(h.size(), 3u);
  // Path words cheap, meds, buy, php, id and a number; "/", "-", "?" are not words.
  EXPECT_EQ(p.size(), h.size() + 6);
  // Another host of the same registrable domain shares all but the host token.
  std::vector<std::uint64_t> shared;
  std::set_intersection(h.begin(), h.end(), o.begin(), o.end(), std::back_inserter(shared));
  EXPECT_EQ(shared.size(), 2u);
  // URL path words are not body words.
  ParsedMessage text;
  text.text = "cheap";
  const auto t = Features(text, false);
  EXPECT_FALSE(std::binary_search(p.begin(), p.end(), t[0]));
}

TEST(TokenizerTest, SymbolRunsAndLineStartsAreFeaturesButNotBodyTokens) {
  ParsedMessage plain, loud;
  plain.text = "free offer";
  loud.text = "> free offer!!! ★★";
  Tokens t;
  Tokenize(loud, t, false);
  EXPECT_EQ(t.body, Tok("free offer")) << "fingerprints read words only";
  // "!!!", "★★", and the line-start ">" (also a symbol run of its own).
  EXPECT_EQ(t.features.size(), Features(plain, false).size() + 4);
  // A symbol run is one token however long it is past four code points.
  ParsedMessage a, b;
  a.text = "!!!!!!!!";
  b.text = "!!!!";
  EXPECT_EQ(Features(a, false), Features(b, false));
  // Full-width punctuation folds like full-width letters.
  ParsedMessage full;
  full.text = "\xEF\xBC\x81\xEF\xBC\x81\xEF\xBC\x81";  // ！！！
  ParsedMessage ascii;
  ascii.text = "!!!";
  EXPECT_EQ(Features(full, false), Features(ascii, false));
}

TEST(TokenizerTest, StructureTokensDescribeTheShapeNotTheValues) {
  ParsedMessage a, b, c;
  a.headers = {{"Message-ID", "<20041108.ab12@mail.example>"}, {"Content-Type", "text/plain; charset=gb2312"}};
  b.headers = {{"Content-Type", "TEXT/PLAIN"}};
  c.headers = {{"Message-ID", "<20041108.ab12@mail.example>"}, {"Content-Type", "text/html"}};
  a.parts = b.parts = c.parts = 1;
  EXPECT_TRUE(Features(a, false).empty());
  EXPECT_FALSE(Features(a, true).empty());
  EXPECT_EQ(Features(a, true), Features(b, true)) << "same shape and type; the Message-ID is never read";
  EXPECT_NE(Features(a, true), Features(c, true));
  c.headers = b.headers;
  c.parts = 2;
  EXPECT_NE(Features(b, true), Features(c, true));
}

}  // namespace
}  // namespace hive::policy::content
