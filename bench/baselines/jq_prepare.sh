#!/usr/bin/env bash
# The shell baseline: the same extraction as the original, as a zcat | jq pipeline.
#   jq_prepare.sh cloudtrail|waf DIR OUTPUT.csv
set -euo pipefail
kind=$1 dir=$2 out=$3
ipv4='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
if [[ $kind == cloudtrail ]]; then
  find "$dir" -type f -name '*.json.gz' ! -path '*CloudTrail-Digest*' -print0 | sort -z |
    xargs -0 zcat |
    jq -r ".Records[] | select(.userIdentity.type != \"AWSService\")
           | select((.sourceIPAddress // \"\") | test(\"$ipv4\"))
           | select(.userIdentity.principalId != null)
           | [.userIdentity.principalId, .sourceIPAddress] | @csv" > "$out"
else
  find "$dir" -type f ! -name labels.csv -print0 | sort -z |
    xargs -0 zcat -f |
    jq -r "select((.httpRequest.clientIp // \"\") | test(\"$ipv4\"))
           | [.httpRequest.clientIp, ([.httpRequest.headers[]? | select(.name == \"User-Agent\") | .value] | last)]
           | select(.[1] != null)
           | [(.[1] | gsub(\"[.,]\"; \"\")), .[0]] | @csv" > "$out"
fi
