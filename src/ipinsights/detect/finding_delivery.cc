#include "ipinsights/detect/finding_delivery.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

#include "ipinsights/base/error.h"
#include "ipinsights/detect/finding_state.h"
#include "ipinsights/detect/suppression.h"

namespace ipinsights {
namespace {

// ASFF batches built and sent this many at a time (10 x 100 findings), so a noisy day never
// holds every batch as text at once.
constexpr size_t kBatchesPerGroup = 10;

void Add(SecurityHubResult* total, const SecurityHubResult& part) {
  total->batches += part.batches;
  total->sent += part.sent;
  total->succeeded += part.succeeded;
  total->failed += part.failed;
  total->failures.insert(total->failures.end(), part.failures.begin(), part.failures.end());
}

// ASFF names the one account that imports the findings; `accounts` are several.
UsageError SeveralAccountsError(std::string_view what, const std::set<std::string>& accounts) {
  std::string named;
  for (const std::string& account : accounts) {
    if (named.size() > 200) break;
    named += (named.empty() ? "" : ", ") + (account.empty() ? "(none)" : account);
  }
  return UsageError(fmt::format(
      "{} in several AWS accounts ({}): ASFF findings name the one account that imports them: "
      "give --account-id or set AWS_ACCOUNT_ID",
      what, named));
}

}  // namespace

struct FindingDelivery::Impl {
  FindingDeliveryOptions options;
  std::optional<SuppressionList> rules;
  std::optional<FindingState> state;
  std::optional<SecurityHubClient> security_hub;
  bool all_sent = true;
};

FindingDelivery::FindingDelivery(const FindingDeliveryOptions& options) : impl_(new Impl) {
  impl_->options = options;
  const bool asff = options.format == FindingFormat::kAsff || options.to_security_hub;
  if (asff && options.account_id.empty() && options.kind == LogKind::kWaf) {
    throw UsageError(
        "ASFF findings name the AWS account that imports them, and WAF records carry none: "
        "give --account-id or set AWS_ACCOUNT_ID");
  }
  if (!options.suppress.empty()) {
    impl_->rules.emplace(SuppressionList::Read(options.suppress, options.today));
  }
  if (!options.state.empty()) impl_->state.emplace(FindingState::Load(options.state));
  if (options.to_security_hub)
    impl_->security_hub.emplace(SecurityHubOptions{.region = options.region, .endpoint = ""});
}

FindingDelivery::~FindingDelivery() = default;

void FindingDelivery::CheckAccounts(const std::set<std::string>& accounts) const {
  const FindingDeliveryOptions& options = impl_->options;
  const bool asff = options.format == FindingFormat::kAsff || options.to_security_hub;
  if (asff && options.account_id.empty() && accounts.size() > 1) {
    throw SeveralAccountsError("the logs to read are", accounts);
  }
}

FindingDeliverySummary FindingDelivery::Deliver(FindingStream& findings, WritableFile* output,
                                                int64_t now) {
  Impl& impl = *impl_;
  const FindingDeliveryOptions& options = impl.options;
  FindingDeliverySummary summary;
  summary.findings = findings.size();
  SuppressionResult suppression;
  if (impl.rules) suppression = impl.rules->NewResult();
  // Whether a finding is passed on (not suppressed, not reported by an earlier run).
  auto passes = [&](const Finding& finding, SuppressionResult* tally, uint64_t* already) {
    if (impl.rules && impl.rules->Suppress(finding, tally)) return false;
    if (impl.state && impl.state->Reported(finding)) {
      ++*already;
      return false;
    }
    return true;
  };

  const bool asff = options.format == FindingFormat::kAsff || options.to_security_hub;
  AsffContext context{.region = options.region, .account_id = options.account_id, .now = now};
  if (asff && context.account_id.empty()) {
    // A first pass, writing nothing: the account of the findings that pass, before any of
    // them is written or sent.
    std::set<std::string> accounts;
    SuppressionResult scratch = suppression;
    uint64_t already = 0;
    Finding finding;
    findings.Rewind();
    while (findings.Next(&finding)) {
      if (passes(finding, &scratch, &already)) accounts.insert(finding.account_id);
    }
    if (accounts.size() == 1 && !accounts.begin()->empty()) {
      context.account_id = *accounts.begin();
    } else if (!accounts.empty()) {
      throw SeveralAccountsError("the findings are", accounts);
    }
  }

  // Written a megabyte at a time; ASFF built and sent one group of batches at a time.
  std::string text;
  auto write = [&](bool last) {
    if (output != nullptr && (text.size() >= (size_t{1} << 20) || (last && !text.empty()))) {
      output->Append(text);
      text.clear();
    }
  };
  std::vector<Finding> group;
  auto send_group = [&] {
    if (group.empty()) return;
    const std::vector<std::string> batches = AsffBatches(group, context);
    if (options.format == FindingFormat::kAsff) {
      for (const std::string& batch : batches) {
        text += batch;
        text += '\n';
        write(false);
      }
    }
    if (impl.security_hub) {
      Add(&summary.security_hub, impl.security_hub->Import(batches));
      summary.sent_to_security_hub = true;
    }
    group.clear();
  };
  Finding finding;
  findings.Rewind();
  while (findings.Next(&finding)) {
    if (!passes(finding, &suppression, &summary.already_reported)) continue;
    ++summary.reported;
    ++summary.by_severity[static_cast<size_t>(finding.severity)];
    // The state's record, saved by Commit only once everything is in place.
    if (impl.state) impl.state->Record(finding, now);
    if (options.format != FindingFormat::kAsff) {
      text += options.format == FindingFormat::kOcsf ? OcsfFindingJson(finding, now)
                                                     : FindingJson(finding);
      text += '\n';
      write(false);
    }
    if (asff) {
      group.push_back(std::move(finding));
      if (group.size() == kBatchesPerGroup * kAsffBatchLimit) send_group();
    }
  }
  send_group();
  write(true);
  summary.suppressed = suppression.suppressed;
  summary.expired_rules = std::move(suppression.expired);
  for (const RuleCount& count : suppression.by_rule) {
    summary.rule_counts.emplace_back(
        count.rule->where + ": " + count.rule->reason + " (" + count.rule->owner + ")",
        count.findings);
  }
  impl.all_sent = !summary.sent_to_security_hub || summary.security_hub.failed == 0;
  return summary;
}

void FindingDelivery::Commit() {
  if (!impl_->state || !impl_->all_sent) return;
  impl_->state->Save();
}

}  // namespace ipinsights
