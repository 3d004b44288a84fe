// Charsets, transfer encodings, RFC 2047 header words, RFC 2231 parameters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "content/charset.h"
#include "content/header_decode.h"
#include "content/mime_params.h"
#include "content/transfer.h"

namespace hive::policy::content {
namespace {

// UTF-8 spelled as bytes, so the test reads the same in any editor.
const std::string kZhongWen = "\xE4\xB8\xAD\xE6\x96\x87";                           // 中文
const std::string kMianFeiFaPiao = "\xE5\x85\x8D\xE8\xB4\xB9\xE5\x8F\x91\xE7\xA5\xA8";  // 免费发票

TEST(CharsetTest, AllowListMapsAliasesToSupersets) {
  EXPECT_EQ(CanonicalCharset("GB2312"), "GB18030");
  EXPECT_EQ(CanonicalCharset(" \"gbk\" "), "GB18030");
  EXPECT_EQ(CanonicalCharset("x-gbk"), "GB18030");
  EXPECT_EQ(CanonicalCharset("Big5"), "BIG5-HKSCS");
  EXPECT_EQ(CanonicalCharset("iso-8859-1"), "WINDOWS-1252");
  EXPECT_EQ(CanonicalCharset("ISO8859-15"), "ISO-8859-15");
  EXPECT_EQ(CanonicalCharset("utf-8*en"), "UTF-8");
  // Never on the list: converter names an attacker could aim at.
  EXPECT_EQ(CanonicalCharset("../../tmp/evil"), "");
  EXPECT_EQ(CanonicalCharset("UTF-8//IGNORE"), "");
  EXPECT_EQ(CanonicalCharset("IBM1047"), "");
  EXPECT_EQ(CanonicalCharset(""), "");
}

TEST(CharsetTest, ConvertsChineseJapaneseAndWesternText) {
  EXPECT_EQ(ToUtf8("\xD6\xD0\xCE\xC4", "gb2312").text, kZhongWen);
  // A GBK-only character in mail labelled gb2312 (the common case).
  EXPECT_EQ(ToUtf8("\xE9\x46", "gb2312").text, "\xE9\x95\x95");  // 镕
  EXPECT_EQ(ToUtf8("\xB5\x6F\xB2\xBC", "big5").text, "\xE7\x99\xBC\xE7\xA5\xA8");  // 發票
  EXPECT_EQ(ToUtf8("\x1B\x24\x42\x46\x7C\x4B\x5C\x38\x6C\x1B\x28\x42", "ISO-2022-JP").text,
            "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");  // 日本語
  EXPECT_EQ(ToUtf8("caf\xE9", "latin1").text, "caf\xC3\xA9");
  EXPECT_EQ(ToUtf8("\x80", "windows-1252").text, "\xE2\x82\xAC");
}

TEST(CharsetTest, InvalidBytesBecomeReplacementCharactersNeverErrors) {
  Utf8Text t = ToUtf8("a\xFF\x80" "b", "gb2312");
  EXPECT_TRUE(t.had_errors);
  EXPECT_TRUE(IsValidUtf8(t.text));
  EXPECT_THAT(t.text, ::testing::StartsWith("a"));
  EXPECT_THAT(t.text, ::testing::EndsWith("b"));
  // Declared UTF-8 but broken: repaired, not reinterpreted.
  EXPECT_EQ(ToUtf8("ok\xC3", "utf-8").text, "ok\xEF\xBF\xBD");
}

// GB18030 text is converted run by run (ASCII copied, Chinese through
// iconv); what comes out is what one pass over the whole text gives.
TEST(CharsetTest, Gb18030MixedWithAsciiConvertsAsOneText) {
  // Trail bytes in the ASCII range ('F' of 0xE9 0x46) and four-byte
  // characters (digits as their 2nd and 4th bytes) stay inside their run.
  EXPECT_EQ(ToUtf8("a\xE9\x46" "F\xD6\xD0" "1 \x81\x30\x81\x30" "2", "gb2312").text,
            "a\xE9\x95\x95" "F" + kZhongWen.substr(0, 3) + "1 \xC2\x80" "2");
  // Runs longer than the conversion buffer, between ASCII lines.
  std::string gb = "x\r\n", utf8 = "x\r\n";
  for (int i = 0; i < 3000; ++i) gb += "\xD6\xD0\xCE\xC4", utf8 += kZhongWen;
  gb += "\r\ny", utf8 += "\r\ny";
  Utf8Text long_run = ToUtf8(gb + gb, "gbk");
  EXPECT_FALSE(long_run.had_errors);
  EXPECT_EQ(long_run.text, utf8 + utf8);
  // Broken sequences among good text: each bad byte is one replacement, the
  // rest as before (a lead byte before a space, a lead byte at the end).
  Utf8Text broken = ToUtf8("x\xD6\xD0\x81 y\xCE\xC4\xD6", "gb2312");
  EXPECT_TRUE(broken.had_errors);
  EXPECT_EQ(broken.text, "x" + kZhongWen.substr(0, 3) + "\xEF\xBF\xBD y" + kZhongWen.substr(3) + "\xEF\xBF\xBD");
}

TEST(CharsetTest, UnknownOrMissingLabelUsesUtf8ThenTheFallback) {
  Utf8Text unknown = ToUtf8("\xD6\xD0\xCE\xC4", "x-made-up");
  EXPECT_TRUE(unknown.unknown_charset);
  EXPECT_EQ(unknown.text, kZhongWen);  // read as the gb18030 fallback
  EXPECT_EQ(ToUtf8(kZhongWen, "").text, kZhongWen);
  // 8-bit text labelled us-ascii: the fallback, not replacement characters.
  EXPECT_EQ(ToUtf8("\xD6\xD0\xCE\xC4", "us-ascii").text, kZhongWen);
  EXPECT_EQ(ToUtf8("caf\xE9", "", "latin1").text, "caf\xC3\xA9");
}

TEST(TransferTest, Base64ToleratesGarbageAndStopsAtPadding) {
  bool garbage = false;
  EXPECT_EQ(DecodeBase64("aGVs\r\nbG8=", &garbage), "hello");
  EXPECT_FALSE(garbage);
  EXPECT_EQ(DecodeBase64("aGV!!sbG8=", &garbage), "hello");
  EXPECT_TRUE(garbage);
  EXPECT_EQ(DecodeBase64("aGVsbG8=junk after padding"), "hello");
  EXPECT_EQ(DecodeBase64("aGVsbG"), "hell");  // partial quantum decoded as far as it goes
  EXPECT_EQ(DecodeBase64("aGVsbG8=", nullptr, 2), "he");
}

TEST(TransferTest, QuotedPrintableKeepsMalformedSequences) {
  bool garbage = false;
  EXPECT_EQ(DecodeQuotedPrintable("a=3Db=\r\nc=\nd =ZZ", &garbage), "a=bcd =ZZ");
  EXPECT_TRUE(garbage);
  EXPECT_EQ(DecodeQuotedPrintable("soft=  \r\nbreak", &garbage), "softbreak");
  EXPECT_FALSE(garbage);
  EXPECT_EQ(DecodeQuotedPrintable("end="), "end");
}

TEST(HeaderDecodeTest, UnfoldsAndDecodesBAndQWordsInMixedCharsets) {
  EXPECT_EQ(Unfold("a\r\n b\n\tc"), "a b\tc");
  EXPECT_EQ(DecodeHeaderValue("=?gb2312?B?w+K30beixrE=?=").text, kMianFeiFaPiao);
  EXPECT_EQ(DecodeHeaderValue("=?GBK?b?1tDOxA==?=").text, kZhongWen);
  EXPECT_EQ(DecodeHeaderValue("=?ISO-8859-1?Q?caf=E9_au_lait?=").text, "caf\xC3\xA9 au lait");
  // Adjacent words: the whitespace between them disappears (RFC 2047 6.2),
  // the whitespace between a word and text stays.
  EXPECT_EQ(DecodeHeaderValue("=?utf-8?q?a?=\r\n =?gb2312?B?1tDOxA==?= end").text, "a" + kZhongWen + " end");
  EXPECT_EQ(DecodeHeaderValue("Re: =?utf-8?B?5Lit5paH?=").text, "Re: " + kZhongWen);
}

TEST(HeaderDecodeTest, MalformedWordsStayLiteralAndAreFlagged) {
  DecodedHeader d = DecodeHeaderValue("=?gb2312?B?w+K30 unterminated");
  EXPECT_TRUE(d.malformed);
  EXPECT_EQ(d.text, "=?gb2312?B?w+K30 unterminated");
  d = DecodeHeaderValue("=?x-unknown?Q?abc?=");
  EXPECT_TRUE(d.unknown_charset);
  EXPECT_EQ(d.text, "abc");
  d = DecodeHeaderValue("=?utf-8?X?abc?=");
  EXPECT_EQ(d.text, "=?utf-8?X?abc?=");
  // Raw GB bytes in a header (common in Chinese mail): the fallback reads them.
  EXPECT_EQ(DecodeHeaderValue("\xD6\xD0\xCE\xC4").text, kZhongWen);
  EXPECT_TRUE(IsValidUtf8(DecodeHeaderValue("\xFF\xFE\x00zz=?utf-8?B?////?=").text));
}

TEST(MimeParamsTest, ContentTypeWithQuotedAndCommentedParameters) {
  FieldValue f = ParseFieldValue("Text/HTML; charset=\"GB2312\" (comment); format=flowed");
  EXPECT_EQ(f.value, "text/html");
  EXPECT_EQ(f.Param("charset"), "GB2312");
  EXPECT_EQ(f.Param("format"), "flowed");
  EXPECT_FALSE(f.malformed);
  f = ParseFieldValue("multipart/mixed;\r\n\tboundary=\"----=_Part_1\"");
  EXPECT_EQ(f.Param("boundary"), "----=_Part_1");
}

TEST(MimeParamsTest, Rfc2231ContinuationsCharsetsAndRfc2047InQuotes) {
  FieldValue f = ParseFieldValue(
      "attachment; filename*0*=gb2312''%C3%E2%B7%D1; filename*1*=%B7%A2%C6%B1; filename*2=.exe");
  EXPECT_EQ(f.value, "attachment");
  EXPECT_EQ(f.Param("filename"), kMianFeiFaPiao + ".exe");
  f = ParseFieldValue("attachment; filename*=UTF-8'zh'%E4%B8%AD%E6%96%87.pdf");
  EXPECT_EQ(f.Param("filename"), kZhongWen + ".pdf");
  f = ParseFieldValue("attachment; filename=\"=?gb2312?B?1tDOxA==?=.doc\"");
  EXPECT_EQ(f.Param("filename"), kZhongWen + ".doc");
  f = ParseFieldValue("text/plain; ; =x; charset");
  EXPECT_TRUE(f.malformed);
  EXPECT_EQ(f.value, "text/plain");
}

}  // namespace
}  // namespace hive::policy::content
