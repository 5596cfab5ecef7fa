#include "ipinsights/storage/s3_xml.h"

#include <gtest/gtest.h>

namespace ipinsights {
namespace {

TEST(S3Xml, FindsEveryElementInOrder) {
  const std::string xml =
      "<ListBucketResult><KeyCount>2</KeyCount><Contents><Key>a</Key><Size>1</Size></Contents>"
      "<Contents><Key>b</Key><Size>22</Size></Contents></ListBucketResult>";
  auto contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlFirst(contents[1], "Size").value(), "22");
  // "<Key" must not match "<KeyCount".
  auto keys = XmlElements(xml, "Key");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], "a");
}

TEST(S3Xml, DecodesEntitiesAndCharacterReferences) {
  EXPECT_EQ(XmlText("a&amp;b&lt;c&gt;d&quot;e&apos;f&#65;&#x263A;"), "a&b<c>d\"e'fA\xE2\x98\xBA");
  EXPECT_EQ(XmlText("no entity & here"), "no entity & here");
}

TEST(S3Xml, EmptyAndAttributedElements) {
  auto empty = XmlElements("<R><Prefix/><Prefix a=\"1\">x</Prefix></R>", "Prefix");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0], "");
  EXPECT_EQ(empty[1], "x");
}

TEST(S3Xml, UnclosedElementIsNotReturned) {
  EXPECT_TRUE(XmlElements("<R><Key>abc</R>", "Key").empty());
  EXPECT_FALSE(XmlFirst("", "Key").has_value());
}

TEST(S3Xml, EscapeRoundTrips) { EXPECT_EQ(XmlText(XmlEscape("\"e<t>a&g\"")), "\"e<t>a&g\""); }

}  // namespace
}  // namespace ipinsights
