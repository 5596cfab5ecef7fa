#include "ipinsights/simulate/cloudtrail_format.h"

#include <algorithm>
#include <unordered_set>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/simulate/names.h"
#include "ipinsights/simulate/record_text.h"

namespace ipinsights::simulate {
namespace {

constexpr uint64_t kTagIdentity = 0x63746964;  // "ctid"
constexpr uint64_t kTagAccounts = 0x63746163;

constexpr double kAwsServiceShare = 0.06;
constexpr double kAwsInternalShare = 0.02;
constexpr double kServiceHostShare = 0.03;
constexpr double kNoEntityShare = 0.005;  // of people's events

constexpr std::string_view kBase62 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// One API call of the catalogue; request/response are literal JSON.
struct ApiCall {
  const char* source;  // eventSource
  const char* name;    // eventName
  const char* host;    // endpoint prefix; "{r}" is not used: region appended unless global
  bool global;         // endpoint without region (iam, s3 ListBuckets)
  bool read_only;
  bool management;         // false: a data event
  const char* request;     // requestParameters
  const char* response;    // responseElements
  const char* additional;  // additionalEventData or nullptr
  double person_weight;
  double workload_weight;
};

constexpr ApiCall kCalls[] = {
    {"sts.amazonaws.com", "GetCallerIdentity", "sts", false, true, true, "null", "null", nullptr, 8,
     6},
    {"s3.amazonaws.com", "ListBuckets", "s3", true, true, true, "{\"Host\":\"s3.amazonaws.com\"}",
     "null",
     "{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\","
     "\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":"
     "\"Fp4bQx2cY3Zt8vJ6Q0mE1kLr5sH7uNwA9dTgCiXoVyB=\",\"bytesTransferredOut\":2374}",
     6, 2},
    {"ec2.amazonaws.com", "DescribeInstances", "ec2", false, true, true,
     "{\"instancesSet\":{},\"filterSet\":{}}", "null", nullptr, 10, 8},
    {"ec2.amazonaws.com", "DescribeSecurityGroups", "ec2", false, true, true,
     "{\"securityGroupSet\":{},\"securityGroupIdSet\":{},\"filterSet\":{}}", "null", nullptr, 4, 2},
    {"ec2.amazonaws.com", "StartInstances", "ec2", false, false, true,
     "{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-0a1b2c3d4e5f60718\"}]}}",
     "{\"requestId\":\"5a8f3c1e-9b7d-4e2f-8a6c-1d3b5f7e9a2c\",\"instancesSet\":{\"items\":[{"
     "\"instanceId\":\"i-0a1b2c3d4e5f60718\",\"currentState\":{\"code\":0,\"name\":\"pending\"},"
     "\"previousState\":{\"code\":80,\"name\":\"stopped\"}}]}}",
     nullptr, 1, 0.2},
    {"iam.amazonaws.com", "ListRoles", "iam", true, true, true, "{\"maxItems\":100}", "null",
     nullptr, 3, 0.5},
    {"iam.amazonaws.com", "GetUser", "iam", true, true, true, "null", "null", nullptr, 2, 0},
    {"logs.amazonaws.com", "DescribeLogGroups", "logs", false, true, true, "{\"limit\":50}", "null",
     nullptr, 4, 3},
    {"logs.amazonaws.com", "CreateLogStream", "logs", false, false, true,
     "{\"logGroupName\":\"/aws/app/prod\",\"logStreamName\":\"2024/app/7f3c2a\"}", "null", nullptr,
     0.2, 6},
    {"lambda.amazonaws.com", "ListFunctions20150331", "lambda", false, true, true, "null", "null",
     nullptr, 3, 1},
    {"dynamodb.amazonaws.com", "DescribeTable", "dynamodb", false, true, true,
     "{\"tableName\":\"orders\"}", "null", nullptr, 2, 5},
    {"kms.amazonaws.com", "Decrypt", "kms", false, true, true,
     "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{\"aws:lambda:"
     "FunctionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:orders-api\"}}",
     "null", nullptr, 1, 10},
    {"ssm.amazonaws.com", "GetParameter", "ssm", false, true, true,
     "{\"name\":\"/app/prod/db-url\",\"withDecryption\":true}", "null", nullptr, 1, 8},
    {"secretsmanager.amazonaws.com", "GetSecretValue", "secretsmanager", false, true, true,
     "{\"secretId\":\"prod/app/database\"}", "null", nullptr, 1, 6},
    {"monitoring.amazonaws.com", "GetMetricData", "monitoring", false, true, true,
     "{\"startTime\":\"Jan 1, 2024, 12:00:00 AM\",\"endTime\":\"Jan 1, 2024, 3:00:00 "
     "AM\",\"maxDatapoints\":1440}",
     "null", nullptr, 3, 2},
    {"s3.amazonaws.com", "GetObject", "s3", false, true, false,
     "{\"bucketName\":\"acme-prod-data\",\"Host\":\"acme-prod-data.s3.amazonaws.com\",\"key\":"
     "\"reports/daily/part-0001.parquet\"}",
     "null",
     "{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\","
     "\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":"
     "\"k2Yz9Qb7cR1tW5xN3mV8pL4sD6fG0hJ2aE7uB9oI1nM=\",\"bytesTransferredOut\":183924}",
     2, 8},
    {"sts.amazonaws.com", "AssumeRole", "sts", false, false, true,
     "{\"roleArn\":\"arn:aws:iam::000000000000:role/"
     "deploy\",\"roleSessionName\":\"deploy-session\",\"durationSeconds\":3600}",
     "{\"credentials\":{\"accessKeyId\":\"ASIAQ7EXAMPLE4SESSION\",\"sessionToken\":"
     "\"IQoJb3JpZ2luX2VjEXAMPLETOKEN\",\"expiration\":\"Jan 1, 2024, 1:00:00 "
     "PM\"},\"assumedRoleUser\":{\"assumedRoleId\":\"AROAQ7EXAMPLEROLEID01:deploy-session\","
     "\"arn\":\"arn:aws:sts::000000000000:assumed-role/deploy/deploy-session\"}}",
     nullptr, 1, 1},
};
constexpr size_t kCallCount = sizeof(kCalls) / sizeof(kCalls[0]);

struct CallTable {
  double person_cumulative[kCallCount];
  double workload_cumulative[kCallCount];
  CallTable() {
    double p = 0, w = 0;
    for (size_t i = 0; i < kCallCount; ++i) {
      p += kCalls[i].person_weight;
      w += kCalls[i].workload_weight;
      person_cumulative[i] = p;
      workload_cumulative[i] = w;
    }
  }
  const ApiCall& Pick(bool person, Rng& rng) const {
    const double* cumulative = person ? person_cumulative : workload_cumulative;
    const double u = rng.Uniform() * cumulative[kCallCount - 1];
    size_t i = 0;
    while (i + 1 < kCallCount && u >= cumulative[i]) ++i;
    return kCalls[i];
  }
};
const CallTable kCallTable;

// Services that call on their own behalf (userIdentity.type AWSService) or through a
// principal (invokedBy, sourceIPAddress = the service's host name).
constexpr const char* kServiceHosts[] = {
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "cloudformation.amazonaws.com",
    "config.amazonaws.com",
    "autoscaling.amazonaws.com",
    "ssm.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "access-analyzer.amazonaws.com",
};

std::string RandomString(Rng& rng, size_t count, std::string_view alphabet) {
  std::string s;
  AppendRandomChars(s, rng, count, alphabet);
  return s;
}

std::string JsonLiteral(std::string_view text) {
  std::string s;
  AppendJsonString(&s, text);
  return s;
}

// Appends a catalogue literal with its placeholder account (000000000000) replaced.
void AppendWithAccount(std::string& out, std::string_view text, std::string_view account) {
  constexpr std::string_view kPlaceholder = "000000000000";
  size_t at;
  while ((at = text.find(kPlaceholder)) != std::string_view::npos) {
    out.append(text.substr(0, at));
    out.append(account);
    text.remove_prefix(at + kPlaceholder.size());
  }
  out.append(text);
}

void AppendTlsDetails(std::string& out, std::string_view host, std::string_view region, bool global,
                      bool tls13) {
  out += ",\"tlsDetails\":{\"tlsVersion\":\"";
  out += tls13 ? "TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\""
               : "TLSv1.2\",\"cipherSuite\":\"ECDHE-RSA-AES128-GCM-SHA256\"";
  out += ",\"clientProvidedHostHeader\":\"";
  out += host;
  if (!global) {
    out.push_back('.');
    out += region;
  }
  out += ".amazonaws.com\"}";
}

}  // namespace

CloudTrailFormat::CloudTrailFormat(const PopulationModel& population, uint64_t seed)
    : population_(population) {
  Rng account_rng(DeriveSeed(seed, kTagAccounts));
  for (int i = 0; i < 3; ++i) {
    std::string account;
    account.push_back(static_cast<char>('1' + account_rng.Below(9)));
    AppendRandomChars(account, account_rng, 11, "0123456789");
    accounts_.push_back(account);
  }
  regions_ = {"us-east-1", "us-west-2", "eu-west-1"};
  // Roles shared by many people (Identity Center permission sets) and by workloads.
  struct Role {
    std::string name;
    std::string id;
  };
  std::vector<Role> person_roles[3];
  std::vector<Role> workload_roles[3];
  const char* kPermissionSets[] = {"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess",
                                   "DataEngineer", "BillingAccess"};
  const char* kWorkloadRoles[] = {"orders-api-task", "ingest-worker", "etl-nightly",
                                  "web-frontend",    "ci-deployer",   "reporting-batch"};
  for (int a = 0; a < 3; ++a) {
    for (const char* set : kPermissionSets) {
      person_roles[a].push_back(
          {std::string("AWSReservedSSO_") + set + "_" + RandomString(account_rng, 16, kHexLower),
           "AROA" + RandomString(account_rng, 17, kUpperAlnum)});
    }
    for (const char* role : kWorkloadRoles) {
      workload_roles[a].push_back({role, "AROA" + RandomString(account_rng, 17, kUpperAlnum)});
    }
  }

  std::unordered_set<std::string> taken;
  bool root_taken[3] = {false, false, false};
  identities_.resize(population_.size());
  for (uint32_t e = 0; e < identities_.size(); ++e) {
    Rng rng(DeriveSeed(seed, kTagIdentity, e));
    Identity& id = identities_[e];
    const double account_pick = rng.Uniform();
    id.account = account_pick < 0.5 ? 0 : account_pick < 0.8 ? 1 : 2;
    const double region_pick = rng.Uniform();
    id.home_region = region_pick < 0.6 ? 0 : region_pick < 0.85 ? 1 : 2;
    id.person = population_.role(e) == EntityRole::kPerson;
    const std::string& account = accounts_[id.account];
    const PersonName name = MakePersonName(rng);
    std::string head = "\"userIdentity\":{";
    std::string tail;
    auto session_context = [&](std::string_view issuer_type, std::string_view issuer_id,
                               std::string_view issuer_arn, std::string_view issuer_name,
                               bool ec2) {
      head += ",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"";
      head += issuer_type;
      head += "\",\"principalId\":\"";
      head += issuer_id;
      head += "\",\"arn\":\"";
      head += issuer_arn;
      head += "\",\"accountId\":\"" + account + "\",\"userName\":\"";
      head += issuer_name;
      head += "\"},\"webIdFederationData\":{},\"attributes\":{\"creationDate\":\"";
      tail = "\",\"mfaAuthenticated\":\"";
      tail += id.person ? "true" : "false";
      tail += "\"}";
      if (ec2) tail += ",\"ec2RoleDelivery\":\"2.0\"";
      tail += "}";
    };
    const std::string access_key = "ASIA" + RandomString(rng, 16, kUpperAlnum);
    if (!id.person) {
      const Role& role = workload_roles[id.account][rng.Below(workload_roles[id.account].size())];
      const bool ec2 = rng.Bernoulli(0.6);
      std::string session;
      do {
        session = ec2 ? "i-0" + RandomString(rng, 16, kHexLower)
                      : role.name + "-" + RandomString(rng, 8, kHexLower);
        id.principal_id = role.id + ":" + session;
      } while (!taken.insert(id.principal_id).second);
      head += "\"type\":\"AssumedRole\",\"principalId\":\"" + id.principal_id +
              "\",\"arn\":\"arn:aws:sts::" + account + ":assumed-role/" + role.name + "/" +
              session + "\",\"accountId\":\"" + account + "\",\"accessKeyId\":\"" + access_key +
              "\"";
      session_context("Role", role.id, "arn:aws:iam::" + account + ":role/" + role.name, role.name,
                      ec2);
      id.ec2_instance = ec2;
      id.api_agent = JsonLiteral(MakeSdkUserAgent(rng, ec2));
      id.console_agent = id.api_agent;
    } else {
      const double kind = rng.Uniform();
      std::string user = name.login;
      if (kind < 0.01 && !root_taken[id.account]) {
        root_taken[id.account] = true;
        id.principal_id = account;
        taken.insert(id.principal_id);
        head += "\"type\":\"Root\",\"principalId\":\"" + account +
                "\",\"arn\":\"arn:aws:iam::" + account + ":root\",\"accountId\":\"" + account +
                "\",\"accessKeyId\":\"" + access_key + "\"";
        head +=
            ",\"sessionContext\":{\"sessionIssuer\":{},\"webIdFederationData\":{},\"attributes\":{"
            "\"creationDate\":\"";
        tail = "\",\"mfaAuthenticated\":\"true\"}}";
      } else if (kind < 0.36) {
        for (int n = 2; !taken.insert("iam:" + account + ":" + user).second; ++n) {
          user = name.login + std::to_string(n);
        }
        do {
          id.principal_id = "AIDA" + RandomString(rng, 17, kUpperAlnum);
        } while (!taken.insert(id.principal_id).second);
        id.iam_user = true;
        head += "\"type\":\"IAMUser\",\"principalId\":\"" + id.principal_id +
                "\",\"arn\":\"arn:aws:iam::" + account + ":user/" + user + "\",\"accountId\":\"" +
                account + "\",\"accessKeyId\":\"AKIA" + RandomString(rng, 16, kUpperAlnum) +
                "\",\"userName\":\"" + user + "\"";
      } else if (kind < 0.43) {
        do {
          id.principal_id = account + ":" + user;
          user = name.login + std::to_string(rng.Below(1000));
        } while (!taken.insert(id.principal_id).second);
        user = id.principal_id.substr(account.size() + 1);
        const std::string broker_id = "AIDA" + RandomString(rng, 17, kUpperAlnum);
        head += "\"type\":\"FederatedUser\",\"principalId\":\"" + id.principal_id +
                "\",\"arn\":\"arn:aws:sts::" + account + ":federated-user/" + user +
                "\",\"accountId\":\"" + account + "\",\"accessKeyId\":\"" + access_key + "\"";
        session_context("IAMUser", broker_id, "arn:aws:iam::" + account + ":user/federation-broker",
                        "federation-broker", false);
      } else {
        const Role& role = person_roles[id.account][rng.Below(person_roles[id.account].size())];
        std::string email = name.email;
        for (int n = 2; !taken.insert(role.id + ":" + email).second; ++n) {
          email = name.login + std::to_string(n) + "@" + name.domain;
        }
        id.principal_id = role.id + ":" + email;
        head += "\"type\":\"AssumedRole\",\"principalId\":\"" + id.principal_id +
                "\",\"arn\":\"arn:aws:sts::" + account + ":assumed-role/" + role.name + "/" +
                email + "\",\"accountId\":\"" + account + "\",\"accessKeyId\":\"" + access_key +
                "\"";
        session_context(
            "Role", role.id,
            "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/" + role.name,
            role.name, false);
      }
      id.console_agent = JsonLiteral(MakeBrowserUserAgent(rng));
      id.api_agent = JsonLiteral(MakeCliUserAgent(rng));
      if (rng.Bernoulli(0.5)) {
        id.no_entity_identity =
            "\"userIdentity\":{\"type\":\"SAMLUser\",\"userName\":\"" + name.email + "\"}";
      } else {
        // One draw per statement: the order of draws inside one expression is unspecified.
        std::string user_id;
        AppendUuid(user_id, rng);
        const std::string store = RandomString(rng, 10, "0123456789");
        const std::string credential = RandomString(rng, 32, kBase62);
        id.no_entity_identity =
            "\"userIdentity\":{\"type\":\"IdentityCenterUser\",\"accountId\":\"" + account +
            "\",\"onBehalfOf\":{\"userId\":\"" + user_id +
            "\",\"identityStoreArn\":\"arn:aws:identitystore::" + account + ":identitystore/d-" +
            store + "\"},\"credentialId\":\"" + credential + "\"}";
      }
    }
    id.head = std::move(head);
    id.tail = std::move(tail);
  }
}

bool CloudTrailFormat::Targetable(uint32_t entity, AttackKind kind) const {
  const Identity& id = identities_[entity];
  switch (kind) {
    case AttackKind::kInstanceCredentials:
      return id.ec2_instance;
    case AttackKind::kLongTermKeyNewNetwork:
      return id.iam_user;
    default:
      return false;
  }
}

void CloudTrailFormat::Classify(uint32_t entity, Rng& rng, SimulatedEvent& event) const {
  const Identity& id = identities_[entity];
  size_t region = id.home_region;
  if (rng.Bernoulli(0.15)) region = rng.Below(regions_.size());
  event.partition = static_cast<uint16_t>(id.account * regions_.size() + region);
  double u = rng.Uniform();
  if (u < kAwsServiceShare) {
    event.kind = EventKind::kAwsService;
  } else if ((u -= kAwsServiceShare) < kAwsInternalShare) {
    event.kind = EventKind::kAwsInternal;
  } else if ((u -= kAwsInternalShare) < kServiceHostShare) {
    event.kind = EventKind::kServiceHost;
  } else if (id.person && (u -= kServiceHostShare) < kNoEntityShare) {
    event.kind = EventKind::kNoEntity;
  } else {
    event.kind = EventKind::kPair;
  }
}

std::string CloudTrailFormat::ObjectKey(const SimulatedEvent* events, size_t count,
                                        Rng& rng) const {
  const size_t partition = events[0].partition;
  const std::string& account = accounts_[partition / regions_.size()];
  const std::string& region = regions_[partition % regions_.size()];
  const int64_t last_seconds = events[count - 1].time_ms / 1000;
  const Date date = DateOfUnixSeconds(last_seconds);
  const int64_t of_day = last_seconds - DaysFromCivil(date) * 86400;
  std::string key = "AWSLogs/" + account + "/CloudTrail/" + region + "/";
  AppendPadded(key, static_cast<uint64_t>(date.year), 4);
  key.push_back('/');
  AppendPadded(key, static_cast<uint64_t>(date.month), 2);
  key.push_back('/');
  AppendPadded(key, static_cast<uint64_t>(date.day), 2);
  key += "/" + account + "_CloudTrail_" + region + "_";
  AppendPadded(key, static_cast<uint64_t>(date.year), 4);
  AppendPadded(key, static_cast<uint64_t>(date.month), 2);
  AppendPadded(key, static_cast<uint64_t>(date.day), 2);
  key.push_back('T');
  AppendPadded(key, static_cast<uint64_t>(of_day / 3600), 2);
  AppendPadded(key, static_cast<uint64_t>(of_day / 60 % 60), 2);
  key += "Z_";
  AppendRandomChars(key, rng, 16, kBase62);
  key += ".json.gz";
  return key;
}

void CloudTrailFormat::AppendObject(const SimulatedEvent* events, size_t count, Rng& rng,
                                    std::string& out) const {
  out += "{\"Records\":[";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back(',');
    switch (events[i].kind) {
      case EventKind::kAwsService:
        AppendServiceRecord(events[i], rng, out);
        break;
      case EventKind::kNoEntity:
        AppendNoEntityRecord(events[i], rng, out);
        break;
      default:
        AppendRecord(events[i], rng, out);
        break;
    }
  }
  out += "]}";
}

void CloudTrailFormat::AppendRecord(const SimulatedEvent& event, Rng& rng, std::string& out) const {
  const Identity& id = identities_[event.entity];
  const std::string& account = accounts_[id.account];
  const std::string_view region = regions_[event.partition % regions_.size()];
  const bool console_login = id.person && rng.Bernoulli(0.03);
  const ApiCall& call = kCallTable.Pick(id.person, rng);
  out += "{\"eventVersion\":\"1.09\",";
  out += id.head;
  if (!id.tail.empty()) {
    // Sessions start up to 12 hours before the call.
    AppendIsoTime(out, event.time_ms - static_cast<int64_t>(rng.Below(43200)) * 1000, false);
    out += id.tail;
  }
  const char* service_host = nullptr;
  if (event.kind == EventKind::kServiceHost) {
    service_host = kServiceHosts[rng.Below(std::size(kServiceHosts))];
    out += ",\"invokedBy\":\"";
    out += service_host;
    out += "\"";
  }
  out += "},\"eventTime\":\"";
  AppendIsoTime(out, event.time_ms, false);
  if (console_login) {
    out +=
        "\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":\"ConsoleLogin\",\"awsRegion\":"
        "\"";
  } else {
    out += "\",\"eventSource\":\"";
    out += call.source;
    out += "\",\"eventName\":\"";
    out += call.name;
    out += "\",\"awsRegion\":\"";
  }
  out += region;
  out += "\",\"sourceIPAddress\":\"";
  switch (event.kind) {
    case EventKind::kAwsInternal:
      out += "AWS Internal\",\"userAgent\":\"AWS Internal\"";
      break;
    case EventKind::kServiceHost:
      out += service_host;
      out += "\",\"userAgent\":\"";
      out += service_host;
      out += "\"";
      break;
    default:
      AppendIp(out, event.ip);
      out += "\",\"userAgent\":";
      out += console_login || rng.Bernoulli(0.25) ? id.console_agent : id.api_agent;
  }
  if (console_login) {
    out +=
        ",\"requestParameters\":null,\"responseElements\":{\"ConsoleLogin\":\"Success\"},"
        "\"additionalEventData\":{\"LoginTo\":\"https://console.aws.amazon.com/console/"
        "home?state=hashArgs%23&isauthcode=true\","
        "\"MobileVersion\":\"No\",\"MFAUsed\":\"Yes\"}";
  } else {
    out += ",\"requestParameters\":";
    AppendWithAccount(out, call.request, account);
    out += ",\"responseElements\":";
    AppendWithAccount(out, call.response, account);
    if (call.additional) {
      out += ",\"additionalEventData\":";
      out += call.additional;
    }
  }
  out += ",\"requestID\":\"";
  AppendUuid(out, rng);
  out += "\",\"eventID\":\"";
  AppendUuid(out, rng);
  if (console_login) {
    out +=
        "\",\"readOnly\":false,\"eventType\":\"AwsConsoleSignIn\",\"managementEvent\":true,"
        "\"recipientAccountId\":\"";
  } else {
    out += call.read_only ? "\",\"readOnly\":true" : "\",\"readOnly\":false";
    out += ",\"eventType\":\"AwsApiCall\",\"managementEvent\":";
    out += call.management ? "true" : "false";
    out += ",\"recipientAccountId\":\"";
  }
  out += account;
  out += (console_login || call.management) ? "\",\"eventCategory\":\"Management\""
                                            : "\",\"eventCategory\":\"Data\"";
  if (console_login) {
    AppendTlsDetails(out, "signin.aws.amazon.com", "", true, true);
  } else {
    AppendTlsDetails(out, call.host, region, call.global, (event.entity & 3) != 0);
  }
  if (id.person && !id.tail.empty() && !console_login && event.kind == EventKind::kPair &&
      (event.sequence & 7) == 0) {
    out += ",\"sessionCredentialFromConsole\":\"true\"";
  }
  out.push_back('}');
}

void CloudTrailFormat::AppendServiceRecord(const SimulatedEvent& event, Rng& rng,
                                           std::string& out) const {
  const Identity& id = identities_[event.entity];
  const std::string& account = accounts_[id.account];
  const std::string_view region = regions_[event.partition % regions_.size()];
  const char* service = kServiceHosts[rng.Below(std::size(kServiceHosts))];
  out += "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AWSService\",\"invokedBy\":\"";
  out += service;
  out += "\"},\"eventTime\":\"";
  AppendIsoTime(out, event.time_ms, false);
  out += "\",\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\",\"awsRegion\":\"";
  out += region;
  out += "\",\"sourceIPAddress\":\"";
  out += service;
  out += "\",\"userAgent\":\"";
  out += service;
  const std::string session = "i-0" + RandomString(rng, 16, kHexLower);
  out += "\",\"requestParameters\":{\"roleArn\":\"arn:aws:iam::" + account +
         ":role/service-role/app-instance-role\",\"roleSessionName\":\"" + session +
         "\"},\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIA";
  AppendRandomChars(out, rng, 16, kUpperAlnum);
  out += "\",\"sessionToken\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",\"expiration\":\"";
  AppendIsoTime(out, event.time_ms + 6 * 3600 * 1000, false);
  out += "\"},\"assumedRoleUser\":{\"assumedRoleId\":\"AROA";
  AppendRandomChars(out, rng, 17, kUpperAlnum);
  out += ":" + session + "\",\"arn\":\"arn:aws:sts::" + account +
         ":assumed-role/app-instance-role/" + session + "\"}},\"requestID\":\"";
  AppendUuid(out, rng);
  out += "\",\"eventID\":\"";
  AppendUuid(out, rng);
  out += "\",\"readOnly\":true,\"resources\":[{\"accountId\":\"" + account +
         "\",\"type\":\"AWS::IAM::Role\",\"ARN\":\"arn:aws:iam::" + account +
         ":role/service-role/"
         "app-instance-role\"}],\"eventType\":\"AwsApiCall\",\"managementEvent\":true,"
         "\"recipientAccountId\":\"" +
         account + "\",\"sharedEventID\":\"";
  AppendUuid(out, rng);
  out += "\",\"eventCategory\":\"Management\"";
  AppendTlsDetails(out, "sts", region, false, true);
  out.push_back('}');
}

void CloudTrailFormat::AppendNoEntityRecord(const SimulatedEvent& event, Rng& rng,
                                            std::string& out) const {
  const Identity& id = identities_[event.entity];
  const std::string& account = accounts_[id.account];
  const std::string_view region = regions_[event.partition % regions_.size()];
  out += "{\"eventVersion\":\"1.09\",";
  out += id.no_entity_identity;
  out += ",\"eventTime\":\"";
  AppendIsoTime(out, event.time_ms, false);
  out +=
      "\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":\"UserAuthentication\","
      "\"awsRegion\":\"";
  out += region;
  out += "\",\"sourceIPAddress\":\"";
  AppendIp(out, event.ip);
  out += "\",\"userAgent\":";
  out += id.console_agent;
  out +=
      ",\"requestParameters\":null,\"responseElements\":null,\"additionalEventData\":{"
      "\"AuthWorkflowID\":\"";
  AppendUuid(out, rng);
  out += "\",\"CredentialType\":\"EXTERNAL_IDP\"},\"requestID\":\"";
  AppendUuid(out, rng);
  out += "\",\"eventID\":\"";
  AppendUuid(out, rng);
  out +=
      "\",\"readOnly\":false,\"eventType\":\"AwsServiceEvent\",\"managementEvent\":true,"
      "\"recipientAccountId\":\"";
  out += account;
  out +=
      "\",\"serviceEventDetails\":{\"UserAuthentication\":\"Success\"},\"eventCategory\":"
      "\"Management\"";
  AppendTlsDetails(out, "signin.aws.amazon.com", "", true, true);
  out.push_back('}');
}

std::vector<std::pair<std::string, std::string>> CloudTrailFormat::Digests(
    const std::vector<DeliveredObject>& objects, int64_t day_start_ms, Rng& rng) const {
  std::vector<std::pair<std::string, std::string>> digests;
  const Date date = DateOfUnixSeconds(day_start_ms / 1000);
  std::string date_path;
  AppendPadded(date_path, static_cast<uint64_t>(date.year), 4);
  date_path.push_back('/');
  AppendPadded(date_path, static_cast<uint64_t>(date.month), 2);
  date_path.push_back('/');
  AppendPadded(date_path, static_cast<uint64_t>(date.day), 2);
  // One digest per partition and hour, listing that hour's log files (CloudTrail's cadence).
  for (size_t partition = 0; partition < partition_count(); ++partition) {
    const std::string& account = accounts_[partition / regions_.size()];
    const std::string& region = regions_[partition % regions_.size()];
    std::string previous_object;
    for (int hour = 0; hour < 24; ++hour) {
      const int64_t from = day_start_ms + hour * 3600000LL;
      const int64_t to = from + 3600000LL;
      std::string files;
      int64_t oldest = 0, newest = 0;
      for (const DeliveredObject& object : objects) {
        if (object.partition != partition || object.last_ms < from || object.last_ms >= to)
          continue;
        if (!files.empty()) files.push_back(',');
        if (oldest == 0) oldest = object.first_ms;
        newest = object.last_ms;
        files += "{\"s3Bucket\":\"acme-cloudtrail-logs\",\"s3Object\":\"" + object.key +
                 "\",\"hashValue\":\"" + object.sha256_hex +
                 "\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":\"";
        AppendIsoTime(files, object.last_ms, false);
        files += "\",\"oldestEventTime\":\"";
        AppendIsoTime(files, object.first_ms, false);
        files += "\"}";
      }
      if (files.empty()) continue;
      std::string stamp;
      AppendIsoTime(stamp, to - 1000, false);  // "YYYY-MM-DDTHH:59:59Z"
      std::string compact;
      for (char c : stamp) {
        if (c != '-' && c != ':') compact.push_back(c);
      }
      const std::string key = "AWSLogs/" + account + "/CloudTrail-Digest/" + region + "/" +
                              date_path + "/" + account + "_CloudTrail-Digest_" + region +
                              "_management-events_" + region + "_" + compact + ".json.gz";
      std::string body = "{\"awsAccountId\":\"" + account + "\",\"digestStartTime\":\"";
      AppendIsoTime(body, from, false);
      body += "\",\"digestEndTime\":\"";
      AppendIsoTime(body, to, false);
      body += "\",\"digestS3Bucket\":\"acme-cloudtrail-logs\",\"digestS3Object\":\"" + key +
              "\",\"digestPublicKeyFingerprint\":\"";
      AppendRandomChars(body, rng, 32, kHexLower);
      body += "\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":\"";
      AppendIsoTime(body, newest, false);
      body += "\",\"oldestEventTime\":\"";
      AppendIsoTime(body, oldest, false);
      body += "\",\"previousDigestS3Bucket\":";
      body += previous_object.empty() ? "null" : "\"acme-cloudtrail-logs\"";
      body += ",\"previousDigestS3Object\":";
      body += previous_object.empty() ? "null" : JsonLiteral(previous_object);
      body += ",\"previousDigestHashValue\":";
      if (previous_object.empty()) {
        body += "null";
      } else {
        body.push_back('"');
        AppendRandomChars(body, rng, 64, kHexLower);
        body.push_back('"');
      }
      body += ",\"previousDigestHashAlgorithm\":";
      body += previous_object.empty() ? "null" : "\"SHA-256\"";
      body += ",\"previousDigestSignature\":";
      if (previous_object.empty()) {
        body += "null";
      } else {
        body.push_back('"');
        AppendRandomChars(body, rng, 512, kHexLower);
        body.push_back('"');
      }
      body += ",\"logFiles\":[" + files + "]}";
      previous_object = key;
      digests.emplace_back(key, std::move(body));
    }
  }
  return digests;
}

}  // namespace ipinsights::simulate
