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
  std::vector<Finding> reported;  // what Deliver passed on, for Commit
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
    impl_->security_hub.emplace(SecurityHubOptions{.region = options.region});
}

FindingDelivery::~FindingDelivery() = default;

void FindingDelivery::CheckAccounts(const std::set<std::string>& accounts) const {
  const FindingDeliveryOptions& options = impl_->options;
  const bool asff = options.format == FindingFormat::kAsff || options.to_security_hub;
  if (asff && options.account_id.empty() && accounts.size() > 1) {
    throw SeveralAccountsError("the logs to read are", accounts);
  }
}

FindingDeliverySummary FindingDelivery::Deliver(std::vector<Finding> findings, WritableFile* output,
                                                int64_t now) {
  Impl& impl = *impl_;
  const FindingDeliveryOptions& options = impl.options;
  FindingDeliverySummary summary;
  summary.findings = findings.size();
  if (impl.rules) {
    SuppressionResult result = impl.rules->Apply(std::move(findings));
    findings = std::move(result.kept);
    summary.suppressed = result.suppressed;
    summary.expired_rules = std::move(result.expired);
    for (const RuleCount& count : result.by_rule) {
      summary.rule_counts.emplace_back(
          count.rule->where + ": " + count.rule->reason + " (" + count.rule->owner + ")",
          count.findings);
    }
  }
  if (impl.state) findings = impl.state->Unreported(std::move(findings), &summary.already_reported);

  const bool asff = options.format == FindingFormat::kAsff || options.to_security_hub;
  AsffContext context{.region = options.region, .account_id = options.account_id, .now = now};
  if (asff && context.account_id.empty()) {
    std::set<std::string> accounts;
    for (const Finding& finding : findings) accounts.insert(finding.account_id);
    if (accounts.size() == 1 && !accounts.begin()->empty()) {
      context.account_id = *accounts.begin();
    } else if (!findings.empty()) {
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
  if (asff) {
    const size_t group = kBatchesPerGroup * kAsffBatchLimit;
    for (size_t begin = 0; begin < findings.size(); begin += group) {
      const size_t end = std::min(findings.size(), begin + group);
      const std::vector<Finding> slice(findings.begin() + static_cast<ptrdiff_t>(begin),
                                       findings.begin() + static_cast<ptrdiff_t>(end));
      const std::vector<std::string> batches = AsffBatches(slice, context);
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
    }
  }
  if (options.format != FindingFormat::kAsff) {
    for (const Finding& finding : findings) {
      text += options.format == FindingFormat::kOcsf ? OcsfFindingJson(finding, now)
                                                     : FindingJson(finding);
      text += '\n';
      write(false);
    }
  }
  write(true);
  for (const Finding& finding : findings) {
    ++summary.by_severity[static_cast<size_t>(finding.severity)];
  }
  summary.reported = findings.size();
  impl.all_sent = !summary.sent_to_security_hub || summary.security_hub.failed == 0;
  impl.reported = std::move(findings);
  return summary;
}

void FindingDelivery::Commit(int64_t now) {
  if (!impl_->state || !impl_->all_sent) return;
  impl_->state->Record(impl_->reported, now);
  impl_->state->Save();
}

}  // namespace ipinsights
