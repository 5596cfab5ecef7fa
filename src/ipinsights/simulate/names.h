// Realistic names and user-agent strings for simulated identities and clients.
//
// Every generator draws its choices (names, browser and SDK versions, build numbers,
// platforms) from the caller's Rng, so the strings are distinctive per entity the way real
// clients' are, yet reproducible from the seed.
//
// Thread-safety: pure functions of the Rng.
//
//   PersonName name = MakePersonName(rng);   // {"jane.doe", "jane.doe@northwind.io", ...}
//   std::string agent = MakeBrowserUserAgent(rng);
#pragma once

#include <string>

#include "ipinsights/simulate/random.h"

namespace ipinsights::simulate {

struct PersonName {
  std::string login;   // "jane.doe"
  std::string domain;  // "northwind.io"
  std::string email;   // "jane.doe@northwind.io"
};

PersonName MakePersonName(Rng& rng);

// A desktop or mobile browser (Chrome, Firefox, Safari, Edge) with specific versions.
std::string MakeBrowserUserAgent(Rng& rng);
// The AWS CLI v2 / boto3 / Terraform as people run them.
std::string MakeCliUserAgent(Rng& rng);
// An AWS SDK inside a workload (Java, Go, Python, JavaScript), EC2 or Lambda/ECS.
std::string MakeSdkUserAgent(Rng& rng, bool ec2);
// An HTTP client a web application sees: a browser for people; for machines an API
// client, a script (curl, python-requests, Go), a mobile app's HTTP stack or a crawler.
std::string MakeWebClientUserAgent(Rng& rng, bool person);

}  // namespace ipinsights::simulate
