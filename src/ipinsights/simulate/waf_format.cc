#include "ipinsights/simulate/waf_format.h"

#include <unordered_set>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/simulate/names.h"
#include "ipinsights/simulate/record_text.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagClients = 0x77636c69;  // "wcli"
constexpr uint64_t kTagAcls = 0x7761636c;

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr const char* kRuleGroups =
    "\"ruleGroupList\":[{\"ruleGroupId\":\"AWS#AWSManagedRulesAmazonIpReputationList\","
    "\"terminatingRule\":null,"
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null},"
    "{\"ruleGroupId\":\"AWS#AWSManagedRulesCommonRuleSet\",\"terminatingRule\":null,"
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null},"
    "{\"ruleGroupId\":\"AWS#AWSManagedRulesKnownBadInputsRuleSet\",\"terminatingRule\":null,"
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null}]";
constexpr const char* kBlockedRuleGroups =
    "\"ruleGroupList\":[{\"ruleGroupId\":\"AWS#AWSManagedRulesAmazonIpReputationList\","
    "\"terminatingRule\":null,"
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null},"
    "{\"ruleGroupId\":\"AWS#AWSManagedRulesCommonRuleSet\",\"terminatingRule\":{\"ruleId\":"
    "\"SizeRestrictions_QUERYSTRING\","
    "\"action\":\"BLOCK\",\"ruleMatchDetails\":null},\"nonTerminatingMatchingRules\":[],"
    "\"excludedRules\":null,"
    "\"customerConfig\":null}]";

struct Request {
  const char* method;
  const char* uri;
  const char* args;
};
constexpr Request kPageRequests[] = {
    {"GET", "/", ""},
    {"GET", "/favicon.ico", ""},
    {"GET", "/static/js/main.4f2a9c1e.js", ""},
    {"GET", "/static/css/app.8b1d2e.css", ""},
    {"GET", "/products", "category=shoes&page=2"},
    {"GET", "/search", "q=running+shoes&sort=price"},
    {"GET", "/account/orders", ""},
    {"POST", "/login", ""},
    {"GET", "/api/v1/cart", ""},
    {"POST", "/api/v1/cart/items", ""},
};
constexpr Request kApiRequests[] = {
    {"GET", "/api/v2/orders", "status=open&limit=50"},
    {"GET", "/api/v2/products/1842", ""},
    {"POST", "/api/v2/orders", ""},
    {"PUT", "/api/v2/inventory/sku-20931", ""},
    {"GET", "/health", ""},
    {"GET", "/api/v2/customers/88412/addresses", ""},
};

std::string RandomString(Rng& rng, size_t count, std::string_view alphabet) {
  std::string s;
  AppendRandomChars(s, rng, count, alphabet);
  return s;
}

std::string Normalise(std::string_view agent) {
  std::string entity;
  for (char c : agent) {
    if (c != '.' && c != ',') entity.push_back(c);
  }
  return entity;
}

std::string Header(std::string_view name, std::string_view value) {
  std::string h = "{\"name\":";
  AppendJsonString(&h, name);
  h += ",\"value\":";
  AppendJsonString(&h, value);
  h += "}";
  return h;
}

}  // namespace

WafFormat::WafFormat(const PopulationModel& population, uint64_t seed, std::string prefix,
                     bool gzip)
    : population_(population), prefix_(std::move(prefix)), gzip_(gzip) {
  Rng rng(DeriveSeed(seed, kTagAcls));
  std::string account;
  account.push_back(static_cast<char>('1' + rng.Below(9)));
  AppendRandomChars(account, rng, 11, "0123456789");
  auto make_acl = [&](std::string stream, std::string arn, std::string source_name,
                      std::string source_id, std::string host) {
    Acl acl;
    acl.stream = std::move(stream);
    acl.host = std::move(host);
    acl.record_head = ",\"formatVersion\":1,\"webaclId\":\"" + arn + "\"";
    // httpSourceName/Id follow the terminating rule fields; kept as one literal.
    acl.source_fields =
        ",\"httpSourceName\":\"" + source_name + "\",\"httpSourceId\":\"" + source_id + "\",";
    acls_.push_back(std::move(acl));
  };
  // One draw per statement: the order of draws inside one expression is unspecified.
  auto uuid = [&rng] {
    std::string text;
    AppendUuid(text, rng);
    return text;
  };
  const std::string cloudfront_acl = uuid();
  const std::string distribution = "E" + RandomString(rng, 13, kUpperAlnum);
  make_acl("aws-waf-logs-cloudfront-prod",
           "arn:aws:wafv2:us-east-1:" + account + ":global/webacl/prod-web/" + cloudfront_acl, "CF",
           distribution, "www.northwind.io");
  const std::string alb_acl = uuid();
  const std::string load_balancer = RandomString(rng, 16, kHexLower);
  make_acl("aws-waf-logs-alb-api",
           "arn:aws:wafv2:eu-west-1:" + account + ":regional/webacl/api-acl/" + alb_acl, "ALB",
           account + "-app/api-alb/" + load_balancer, "api.northwind.io");
  const std::string api_id = RandomString(rng, 10, "abcdefghijklmnopqrstuvwxyz0123456789");
  const std::string api_acl = uuid();
  make_acl("aws-waf-logs-apigw-partners",
           "arn:aws:wafv2:us-east-1:" + account + ":regional/webacl/partners/" + api_acl, "APIGW",
           account + ":" + api_id + ":prod", api_id + ".execute-api.us-east-1.amazonaws.com");

  constexpr const char* kLanguages[] = {
      "en-US,en;q=0.9", "en-GB,en;q=0.8",          "de-DE,de;q=0.9,en;q=0.6",   "fr-FR,fr;q=0.9",
      "ja-JP,ja;q=0.9", "es-ES,es;q=0.9,en;q=0.5", "pt-BR,pt;q=0.9,en-US;q=0.8"};
  std::unordered_set<std::string> taken;
  clients_.resize(population_.size());
  for (uint32_t e = 0; e < clients_.size(); ++e) {
    Rng client_rng(DeriveSeed(seed, kTagClients, e));
    Client& client = clients_[e];
    client.person = population_.role(e) == EntityRole::kPerson;
    std::string agent;
    // Redraw until the normalised agent is new: one string per client keeps the oracle exact.
    do {
      agent = MakeWebClientUserAgent(client_rng, client.person);
      client.entity = Normalise(agent);
    } while (client.entity.empty() || !taken.insert(client.entity).second);
    client.agent_json.clear();
    AppendJsonString(&client.agent_json, agent);
    client.acl =
        client.person ? (client_rng.Bernoulli(0.8) ? 0 : 1) : (client_rng.Bernoulli(0.5) ? 1 : 2);
    const bool browser =
        agent.rfind("Mozilla/5.0 (", 0) == 0 && agent.find("compatible;") == std::string::npos;
    client.http2 = browser ? client_rng.Bernoulli(0.9) : client_rng.Bernoulli(0.2);
    const Acl& acl = acls_[client.acl];
    const bool lower = client.http2;
    std::string headers = "\"headers\":[";
    headers += Header(lower ? "host" : "Host", acl.host);
    if (browser && agent.find("Chrome/") != std::string::npos) {
      const size_t at = agent.find("Chrome/") + 7;
      const std::string major = agent.substr(at, agent.find('.', at) - at);
      headers +=
          "," + Header("sec-ch-ua", "\"Chromium\";v=\"" + major + "\", \"Google Chrome\";v=\"" +
                                        major + "\", \"Not-A.Brand\";v=\"99\"");
      headers +=
          "," + Header("sec-ch-ua-mobile", agent.find("Mobile") != std::string::npos ? "?1" : "?0");
    }
    headers += "," + Header(lower ? "user-agent" : "User-Agent", agent);
    headers += "," + Header(lower ? "accept" : "Accept",
                            browser ? "text/html,application/xhtml+xml,application/xml;q=0.9,image/"
                                      "avif,image/webp,*/*;q=0.8"
                                    : "application/json");
    headers += "," + Header(lower ? "accept-encoding" : "Accept-Encoding",
                            browser ? "gzip, deflate, br" : "gzip");
    if (browser) {
      headers += "," + Header(lower ? "accept-language" : "Accept-Language",
                              kLanguages[client_rng.Below(std::size(kLanguages))]);
    } else {
      headers += "," + Header(lower ? "x-api-key" : "X-Api-Key",
                              "key-" + RandomString(client_rng, 12, kHexLower));
    }
    if (!lower) headers += "," + Header("Connection", "keep-alive");
    client.headers_head = std::move(headers);
  }
}

void WafFormat::Classify(uint32_t entity, Rng& rng, SimulatedEvent& event) const {
  event.partition = clients_[entity].acl;
  event.kind = EventKind::kPair;
}

std::string WafFormat::ObjectKey(const SimulatedEvent* events, size_t count, Rng& rng) const {
  const int64_t seconds = events[0].time_ms / 1000;
  const Date date = DateOfUnixSeconds(seconds);
  const int64_t of_day = seconds - DaysFromCivil(date) * 86400;
  std::string key = prefix_;
  AppendPadded(key, static_cast<uint64_t>(date.year), 4);
  key.push_back('/');
  AppendPadded(key, static_cast<uint64_t>(date.month), 2);
  key.push_back('/');
  AppendPadded(key, static_cast<uint64_t>(date.day), 2);
  key.push_back('/');
  AppendPadded(key, static_cast<uint64_t>(of_day / 3600), 2);
  key += "/" + acls_[events[0].partition].stream + "-1-";
  AppendPadded(key, static_cast<uint64_t>(date.year), 4);
  key.push_back('-');
  AppendPadded(key, static_cast<uint64_t>(date.month), 2);
  key.push_back('-');
  AppendPadded(key, static_cast<uint64_t>(date.day), 2);
  key.push_back('-');
  AppendPadded(key, static_cast<uint64_t>(of_day / 3600), 2);
  key.push_back('-');
  AppendPadded(key, static_cast<uint64_t>(of_day / 60 % 60), 2);
  key.push_back('-');
  AppendPadded(key, static_cast<uint64_t>(of_day % 60), 2);
  key.push_back('-');
  AppendUuid(key, rng);
  if (gzip_) key += ".gz";
  return key;
}

void WafFormat::AppendObject(const SimulatedEvent* events, size_t count, Rng& rng,
                             std::string& out) const {
  for (size_t i = 0; i < count; ++i) {
    AppendRecord(events[i], rng, out);
    out.push_back('\n');
  }
}

void WafFormat::AppendRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const {
  const Client& client = clients_[event.entity];
  const Acl& acl = acls_[client.acl];
  const bool blocked = rng.Bernoulli(0.01);
  out += "{\"timestamp\":";
  AppendUnsigned(out, static_cast<uint64_t>(event.time_ms));
  out += acl.record_head;
  if (blocked) {
    out +=
        ",\"terminatingRuleId\":\"AWS-AWSManagedRulesCommonRuleSet\",\"terminatingRuleType\":"
        "\"MANAGED_RULE_GROUP\","
        "\"action\":\"BLOCK\",\"terminatingRuleMatchDetails\":[]";
  } else {
    out +=
        ",\"terminatingRuleId\":\"Default_Action\",\"terminatingRuleType\":\"REGULAR\",\"action\":"
        "\"ALLOW\","
        "\"terminatingRuleMatchDetails\":[]";
  }
  out += acl.source_fields;
  out += blocked ? kBlockedRuleGroups : kRuleGroups;
  out +=
      ",\"rateBasedRuleList\":[],\"nonTerminatingMatchingRules\":[],\"requestHeadersInserted\":"
      "null,"
      "\"responseCodeSent\":";
  out += blocked ? "403" : "null";
  out += ",\"httpRequest\":{\"clientIp\":\"";
  AppendIp(out, event.ip);
  out += "\",\"country\":\"";
  out += population_.Country(event.ip);
  out += "\",";
  out += client.headers_head;
  const Request& request = client.person ? kPageRequests[rng.Below(std::size(kPageRequests))]
                                         : kApiRequests[rng.Below(std::size(kApiRequests))];
  out += "],\"uri\":\"";
  out += request.uri;
  out += "\",\"args\":\"";
  if (blocked) {
    out +=
        "filter="
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  } else {
    out += request.args;
  }
  out += client.http2 ? "\",\"httpVersion\":\"HTTP/2.0\",\"httpMethod\":\""
                      : "\",\"httpVersion\":\"HTTP/1.1\",\"httpMethod\":\"";
  out += request.method;
  out += "\",\"requestId\":\"";
  if (client.acl == 0) {
    AppendRandomChars(out, rng, 54, kBase64Url);
    out += "==";
  } else if (client.acl == 1) {
    out += "1-";
    AppendRandomChars(out, rng, 8, kHexLower);
    out.push_back('-');
    AppendRandomChars(out, rng, 24, kHexLower);
  } else {
    AppendUuid(out, rng);
  }
  out += "\"}";
  if (blocked)
    out +=
        ",\"labels\":[{\"name\":\"awswaf:managed:aws:core-rule-set:SizeRestrictions_QueryString\"}"
        "]";
  out += "}";
}

}  // namespace ipinsights::simulate
