#include "ipinsights/pairs/ip_address.h"

#include <gtest/gtest.h>

#include <string>

namespace ipinsights {
namespace {

struct ValidCase {
  const char* text;
  const char* canonical;
  bool v4;
};

TEST(IpAddress, ParsesEveryValidForm) {
  const ValidCase cases[] = {
      {"0.0.0.0", "0.0.0.0", true},
      {"1.2.3.4", "1.2.3.4", true},
      {"255.255.255.255", "255.255.255.255", true},
      {"10.0.0.1", "10.0.0.1", true},
      {"192.168.100.200", "192.168.100.200", true},
      {"::", "::", false},
      {"::1", "::1", false},
      {"1::", "1::", false},
      {"2001:db8::1", "2001:db8::1", false},
      {"2001:DB8::1", "2001:db8::1", false},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", false},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", false},
      {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1", false},
      {"2001:0:0:1::1", "2001:0:0:1::1", false},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", false},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", false},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", false},
      {"fe80::1", "fe80::1", false},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"::ffff:1.2.3.4", "1.2.3.4", true},
      {"::FFFF:10.0.0.1", "10.0.0.1", true},
      {"0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4", true},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221", false},
      {"::1.2.3.4", "::102:304", false},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304", false},
  };
  for (const ValidCase& c : cases) {
    std::optional<IpAddress> ip = IpAddress::Parse(c.text);
    ASSERT_TRUE(ip.has_value()) << c.text;
    EXPECT_EQ(ip->ToString(), c.canonical) << c.text;
    EXPECT_EQ(ip->is_v4(), c.v4) << c.text;
    // Canonical text parses back to the same address.
    EXPECT_EQ(IpAddress::Parse(ip->ToString()), ip) << c.text;
  }
}

TEST(IpAddress, RejectsEveryInvalidForm) {
  const char* cases[] = {
      "",
      " ",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.04",
      "1.2.3.00",
      "0x1.2.3.4",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.4\n",
      "1.2.3.",
      ".1.2.3",
      "1..2.3",
      "1.2.3.-4",
      "+1.2.3.4",
      "1234.1.1.1",
      "1.2.3.4/24",
      "10.0.0.0/8",
      "1.2.3.4:80",
      "30.*.0.210",
      "81.2.69.142, 192.168.10.10",
      "1.2.3.4,5.6.7.8",
      "AWS Internal",
      "ec2.amazonaws.com",
      "redacted",
      "localhost",
      ":",
      ":::",
      "1:::2",
      "1::2::3",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "12345::1",
      "g::1",
      "fe80::1%eth0",
      "fe80::1%1",
      "[::1]",
      "2001:db8::/32",
      "::ffff:1.2.3",
      "::ffff:01.2.3.4",
      "1.2.3.4::",
      "::1.2.3.4:5",
      "1:2:3:4:5:6:7:1.2.3.4",
      "2001:db8::1 ",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(IpAddress::Parse(text).has_value()) << "accepted: \"" << text << "\"";
  }
}

TEST(IpAddress, HalvesRoundTrip) {
  const IpAddress ip = *IpAddress::Parse("2001:db8:85a3::8a2e:370:7334");
  EXPECT_EQ(ip.high64(), 0x20010db885a30000ULL);
  EXPECT_EQ(ip.low64(), 0x00008a2e03707334ULL);
  EXPECT_EQ(IpAddress::FromHalves(ip.high64(), ip.low64()), ip);
  EXPECT_EQ(IpAddress::FromHalves(0, 0x0000ffffc0000201ULL).ToString(), "192.0.2.1");
}

TEST(IpAddress, V4RoundTripsThroughHostOrder) {
  IpAddress ip = IpAddress::FromV4(0x01020304);
  EXPECT_TRUE(ip.is_v4());
  EXPECT_EQ(ip.v4(), 0x01020304u);
  EXPECT_EQ(ip.ToString(), "1.2.3.4");
  EXPECT_EQ(IpAddress::Parse("1.2.3.4"), ip);
}

TEST(IpAddress, HighAndLowHalves) {
  IpAddress ip = *IpAddress::Parse("2001:db8:1:2:3:4:5:6");
  EXPECT_EQ(ip.high64(), 0x20010db800010002ULL);
  EXPECT_EQ(ip.low64(), 0x0003000400050006ULL);
}

TEST(IpAddress, FormatNeverExceedsMaximum) {
  IpAddress ip = *IpAddress::Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
  char buffer[IpAddress::kMaxTextLength];
  EXPECT_LE(ip.Format(buffer), IpAddress::kMaxTextLength);
}

}  // namespace
}  // namespace ipinsights
