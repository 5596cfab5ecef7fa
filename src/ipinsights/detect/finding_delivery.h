// FindingDelivery: what happens to a run's findings once grouped: suppression rules, the
// state of earlier runs, the output in the chosen format, Security Hub, and last, once all
// of that is in place, the state's record of what was reported.
//
// Order matters for never losing a finding: the constructor reads the rules, loads the
// state, resolves the account and checks Security Hub's region and credentials, so a
// misconfigured job fails before any log is read (and on quiet days too); Deliver writes
// and sends; Commit records in the state, and only when Security Hub took every finding.
// The caller calls Commit after its outputs are in place (closed, renamed, uploaded): a
// run that fails before that reports the same findings again next time.
//
// Memory: the findings are read from a FindingStream one at a time (bounded however many
// there are), ASFF built and sent 1,000 at a time, output written a megabyte at a time; the
// state holds its entries (one per finding reported within its 30 days).
//
// Thread-safety: one thread.
//
//   FindingDelivery delivery(options);           // before scanning
//   ... ScoreLogs, FindingAggregator ...
//   FindingStream findings = std::move(aggregator).Finish();
//   FindingDeliverySummary summary = delivery.Deliver(findings, out.get(), now);
//   out->Close();
//   delivery.Commit();
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/detect/finding.h"
#include "ipinsights/detect/finding_formats.h"
#include "ipinsights/detect/security_hub.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct FindingDeliveryOptions {
  LogKind kind = LogKind::kCloudTrail;
  FindingFormat format = FindingFormat::kNdjson;
  std::string suppress;  // rules file; "" = none
  std::string state;     // folder or s3:// prefix; "" = none
  bool to_security_hub = false;
  std::string region;  // Security Hub's and ASFF's region
  // The importing account (ASFF's ProductArn and AwsAccountId). "": the one account every
  // finding of the run shares (a single-account trail); several is a UsageError.
  std::string account_id;
  Date today;  // decides which suppression rules have expired
};

struct FindingDeliverySummary {
  uint64_t findings = 0;                      // grouped
  uint64_t suppressed = 0;                    // matched a live rule
  uint64_t already_reported = 0;              // in the state from an earlier run
  uint64_t reported = 0;                      // written / sent
  uint64_t by_severity[5] = {0, 0, 0, 0, 0};  // of the reported ones, by Severity
  std::vector<std::string> expired_rules;
  std::vector<std::pair<std::string, uint64_t>> rule_counts;  // "where: reason (owner)", count
  bool sent_to_security_hub = false;
  SecurityHubResult security_hub;
};

class FindingDelivery {
 public:
  // Throws UsageError (bad rules, no account for ASFF of WAF logs, no region) or Error
  // (unreadable rules or state, no AWS credentials for Security Hub).
  explicit FindingDelivery(const FindingDeliveryOptions& options);
  ~FindingDelivery();

  // Before the scan: the accounts the logs to read name (CloudTrail keys). Throws the
  // UsageError Deliver would throw after it when ASFF needs one account and no account was
  // given, so a long scan does not end in that error.
  void CheckAccounts(const std::set<std::string>& accounts) const;
  // Suppresses, drops what the state says was reported, writes to `output` (may be null)
  // and sends to Security Hub, reading `findings` from its start (twice when ASFF needs the
  // findings' one account). Throws UsageError when ASFF needs an account the findings do
  // not settle (before writing anything), Error when writing fails. The state records the
  // reported findings in memory only.
  FindingDeliverySummary Deliver(FindingStream& findings, WritableFile* output, int64_t now);

  // Saves the state with what Deliver reported, when a state is kept and Security Hub (if
  // used) took every finding. Throws Error when the state cannot be written.
  void Commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipinsights
