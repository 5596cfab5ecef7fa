#include "ipinsights/simulate/names.h"

#include <string_view>
#include <type_traits>

#include "ipinsights/simulate/record_text.h"

namespace ipinsights::simulate {
namespace {

constexpr const char* kFirstNames[] = {
    "james",   "mary",      "john",    "patricia", "robert",  "jennifer", "michael", "linda",
    "william", "elizabeth", "david",   "barbara",  "richard", "susan",    "joseph",  "jessica",
    "thomas",  "sarah",     "charles", "karen",    "wei",     "fatima",   "priya",   "arjun",
    "sofia",   "lucas",     "mateo",   "emma",     "noah",    "olivia",   "liam",    "ava",
    "yuki",    "hiro",      "chen",    "ana",      "ivan",    "olga",     "ahmed",   "lea"};
constexpr const char* kLastNames[] = {
    "smith",     "johnson",  "williams",  "brown",  "jones",    "garcia",  "miller",   "davis",
    "rodriguez", "martinez", "hernandez", "lopez",  "gonzalez", "wilson",  "anderson", "thomas",
    "taylor",    "moore",    "jackson",   "martin", "lee",      "perez",   "thompson", "white",
    "harris",    "sanchez",  "clark",     "lewis",  "robinson", "walker",  "nguyen",   "kim",
    "patel",     "singh",    "wang",      "li",     "muller",   "schmidt", "rossi",    "tanaka"};
constexpr const char* kDomains[] = {"northwind.io", "contoso.com", "example-corp.com",
                                    "acme.dev",     "globex.net",  "initech.co"};
constexpr const char* kDesktops[] = {"Windows NT 10.0; Win64; x64",
                                     "Macintosh; Intel Mac OS X 10_15_7",
                                     "X11; Linux x86_64",
                                     "Windows NT 10.0; Win64; x64",
                                     "Macintosh; Intel Mac OS X 10_15_6",
                                     "X11; Ubuntu; Linux x86_64"};
constexpr const char* kPhones[] = {"SM-G991B", "SM-S918B", "Pixel 7", "Pixel 8 Pro",
                                   "SM-A536B", "M2101K6G", "CPH2451", "moto g(60)"};
constexpr const char* kCliOs[] = {"os/macos#23.4.0 md/arch#arm64",
                                  "os/linux#6.5.0-1018-aws md/arch#x86_64",
                                  "os/windows#10 md/arch#amd64", "os/macos#22.6.0 md/arch#x86_64"};
constexpr const char* kCliCommands[] = {
    "s3.ls",     "ec2.describe-instances", "sts.get-caller-identity",
    "logs.tail", "iam.list-roles",         "lambda.list-functions"};
constexpr const char* kApps[] = {"ShopApp", "NorthwindMobile", "TravelBuddy", "FitTrack",
                                 "NewsNow"};

// Parts of a string built by Cat(): text, a random number in [from, to], a random element
// of a list, or a generator called with the Rng. Cat() evaluates them strictly left to
// right (a fold over the comma operator), so the draws happen in the same order with
// every compiler: plain `a + f(rng) + g(rng)` leaves that order unspecified.
struct Num {
  uint64_t from;
  uint64_t to;
};
struct OneOf {
  template <size_t N>
  OneOf(const char* const (&items)[N]) : list(items), size(N) {}  // NOLINT: implicit by design
  const char* const* list;
  size_t size;
};

void Put(std::string& out, Rng&, std::string_view text) { out.append(text); }
void Put(std::string& out, Rng& rng, Num n) {
  AppendUnsigned(out, n.from + rng.Below(n.to - n.from + 1));
}
void Put(std::string& out, Rng& rng, OneOf o) { out.append(o.list[rng.Below(o.size)]); }
template <typename F>
requires std::is_invocable_r_v<std::string, F, Rng&>
void Put(std::string& out, Rng& rng, F generate) { out += generate(rng); }

template <typename... Parts>
std::string Cat(Rng& rng, const Parts&... parts) {
  std::string out;
  (Put(out, rng, parts), ...);
  return out;
}

std::string ChromeVersion(Rng& rng) {
  return Cat(rng, Num{100, 131}, ".0.", Num{4800, 6999}, ".", Num{0, 250});
}

std::string IosVersion(Rng& rng, char separator) {
  const std::string sep(1, separator);
  std::string v = Cat(rng, Num{15, 18}, sep, Num{0, 7});
  if (rng.Bernoulli(0.6)) v += Cat(rng, sep, Num{1, 3});
  return v;
}
std::string IosUnderscored(Rng& rng) { return IosVersion(rng, '_'); }
std::string IosDotted(Rng& rng) { return IosVersion(rng, '.'); }

std::string AndroidPlatform(Rng& rng) {
  return Cat(rng, "Linux; Android ", Num{10, 14}, "; ", OneOf(kPhones));
}

std::string Exec(bool ec2) { return ec2 ? "exec-env/EC2" : "exec-env/AWS_ECS_FARGATE"; }

}  // namespace

PersonName MakePersonName(Rng& rng) {
  PersonName name;
  name.login = Cat(rng, OneOf(kFirstNames), ".", OneOf(kLastNames));
  name.domain = kDomains[rng.Below(std::size(kDomains))];
  name.email = name.login + "@" + name.domain;
  return name;
}

std::string MakeBrowserUserAgent(Rng& rng) {
  const uint64_t which = rng.Below(100);
  if (which < 45) {
    return Cat(rng, "Mozilla/5.0 (", OneOf(kDesktops),
               ") AppleWebKit/537.36 (KHTML, like Gecko) Chrome/", ChromeVersion, " Safari/537.36");
  }
  if (which < 55) {
    const std::string chrome = ChromeVersion(rng);
    return Cat(
        rng,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
        chrome, " Safari/537.36 Edg/", chrome.substr(0, chrome.find('.')), ".0.", Num{1000, 2999},
        ".", Num{10, 99});
  }
  if (which < 67) {
    const std::string v = Cat(rng, Num{91, 133});
    return Cat(rng, "Mozilla/5.0 (", OneOf(kDesktops), "; rv:", v, ".0) Gecko/20100101 Firefox/", v,
               ".0");
  }
  if (which < 82) {
    const std::string ios = IosUnderscored(rng);
    std::string dotted = ios;
    for (char& c : dotted) c = c == '_' ? '.' : c;
    return Cat(rng, "Mozilla/5.0 (iPhone; CPU iPhone OS ", ios,
               " like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/", dotted,
               " Mobile/", Num{15, 21}, "E", Num{100, 999}, " Safari/604.1");
  }
  if (which < 92) {
    return Cat(rng, "Mozilla/5.0 (", AndroidPlatform,
               ") AppleWebKit/537.36 (KHTML, like Gecko) Chrome/", ChromeVersion,
               " Mobile Safari/537.36");
  }
  return Cat(rng,
             "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
             "Gecko) Version/",
             IosDotted, " Safari/605.1.15");
}

std::string MakeCliUserAgent(Rng& rng) {
  const uint64_t which = rng.Below(10);
  if (which < 6) {
    return Cat(
        rng, "aws-cli/2.", Num{9, 17}, ".", Num{0, 40}, " md/awscrt#0.", Num{16, 20}, ".",
        Num{0, 20}, " ua/2.0 ", OneOf(kCliOs), " lang/python#3.11.", Num{4, 9},
        " md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#",
        OneOf(kCliCommands));
  }
  if (which < 9) {
    const std::string botocore = Cat(rng, "1.34.", Num{0, 160});
    return Cat(rng, "Boto3/1.34.", Num{0, 160}, " md/Botocore#", botocore, " ua/2.0 ",
               OneOf(kCliOs), " lang/python#3.1", Num{0, 2}, ".", Num{1, 12},
               " md/pyimpl#CPython cfg/retry-mode#legacy Botocore/", botocore);
  }
  return Cat(rng, "APN/1.0 HashiCorp/1.0 Terraform/1.", Num{3, 9}, ".", Num{0, 6},
             " (+https://www.terraform.io) terraform-provider-aws/5.", Num{10, 60},
             ".0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.",
             Num{20, 30}, ".", Num{0, 9}, " os/linux lang/go#1.22.", Num{0, 5},
             " md/GOOS#linux md/GOARCH#amd64");
}

std::string MakeSdkUserAgent(Rng& rng, bool ec2) {
  const std::string env = Exec(ec2);
  switch (rng.Below(4)) {
    case 0: {
      const std::string java = Cat(rng, "17.0.", Num{6, 11});
      return Cat(rng, "aws-sdk-java/2.20.", Num{0, 180}, " Linux/5.10.", Num{100, 220}, "-",
                 Num{100, 250}, ".amzn2.x86_64 OpenJDK_64-Bit_Server_VM/", java, "+", Num{7, 12},
                 "-LTS Java/", java, " vendor/Amazon.com_Inc. ", env,
                 " io/sync http/Apache cfg/retry-mode/legacy");
    }
    case 1:
      return Cat(rng, "aws-sdk-go-v2/1.", Num{20, 30}, ".", Num{0, 9}, " os/linux lang/go#1.2",
                 Num{0, 2}, ".", Num{0, 9}, " md/GOOS#linux md/GOARCH#amd64 api/",
                 OneOf({"sqs#1.2", "dynamodb#1.2"}), Num{0, 9}, ".", Num{0, 9}, " ", env);
    case 2: {
      const std::string botocore = Cat(rng, "1.34.", Num{0, 160});
      return Cat(rng, "Boto3/1.34.", Num{0, 160}, " md/Botocore#", botocore,
                 " ua/2.0 os/linux#5.10.", Num{100, 220}, "-", Num{100, 250},
                 ".amzn2.x86_64 md/arch#x86_64 lang/python#3.12.", Num{0, 4}, " md/pyimpl#CPython ",
                 env, " cfg/retry-mode#legacy Botocore/", botocore);
    }
    default:
      return Cat(rng, "aws-sdk-js/3.", Num{400, 600}, ".0 ua/2.0 os/linux#5.10.", Num{100, 220},
                 "-", Num{100, 250}, ".amzn2.x86_64 lang/js md/nodejs#20.", Num{5, 12}, ".",
                 Num{0, 3}, " ", env, " api/s3#3.", Num{400, 600}, ".0");
  }
}

std::string MakeWebClientUserAgent(Rng& rng, bool person) {
  if (person) {
    if (rng.Bernoulli(0.85)) return MakeBrowserUserAgent(rng);
    // A mobile app's HTTP stack.
    if (rng.Bernoulli(0.5)) {
      return Cat(rng, OneOf(kApps), "/", Num{1, 9}, ".", Num{0, 40}, ".", Num{0, 20},
                 " (iPhone; iOS ", IosDotted, "; Scale/3.00) build/", Num{1000, 99999});
    }
    return Cat(rng, OneOf(kApps), "/", Num{1, 9}, ".", Num{0, 40}, ".", Num{0, 20}, " (",
               AndroidPlatform, ") okhttp/4.", Num{9, 12}, ".", Num{0, 3});
  }
  switch (rng.Below(7)) {
    case 0:
      return Cat(rng, "curl/", Num{7, 8}, ".", Num{29, 88}, ".", Num{0, 1});
    case 1:
      return Cat(rng, "python-requests/2.", Num{25, 32}, ".", Num{0, 3}, " (integration ",
                 Num{100, 9999}, ")");
    case 2:
      return Cat(rng, "Go-http-client/1.1 inventory-sync/", Num{1, 4}, ".", Num{0, 99});
    case 3:
      return Cat(rng, "okhttp/4.", Num{9, 12}, ".", Num{0, 3}, " partner-gateway/", Num{1, 9}, ".",
                 Num{0, 99}, ".", Num{0, 999});
    case 4:
      return Cat(rng, "Mozilla/5.0 (compatible; ", OneOf({"UptimeMonitor", "StatusCheck"}), "/",
                 Num{1, 9}, ".", Num{0, 9}, "; +https://monitor.example.net/bot/",
                 Num{1000, 999999}, ")");
    case 5: {
      const bool ec2 = rng.Bernoulli(0.5);
      return MakeSdkUserAgent(rng, ec2);
    }
    default:
      return Cat(rng, "axios/1.", Num{3, 7}, ".", Num{0, 9}, " node/", Num{18, 22}, ".", Num{0, 20},
                 " checkout-service/", Num{100, 9999});
  }
}

}  // namespace ipinsights::simulate
