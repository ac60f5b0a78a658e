"""The AWS regions a stack may be deployed to: data stays inside the EU.

Schools promise parents that records about their children stay in the EU (see
DOMAIN.md: "data stays in the region the school chose"). A region is on the list
only when it lies in an EU member state and offers every service the stack uses
(cfn-lint's per-region resource lists were checked for SES, Cognito, WAFv2 and
CloudFront functions).

Deliberately left off:
- eu-west-2 (London) and eu-central-2 (Zurich): outside the EU; they rely on an
  adequacy decision, which can be withdrawn, and school contracts say "EU".
- eu-south-2 (Spain): in the EU, but SES has no CloudFormation support there,
  so staff mail and Cognito's mail through SES cannot be built.
- eu-south-1 (Milan): in the EU, but CloudFront delivers no access logs to
  buckets in that region, and the breach procedure (README) relies on them.
- eusc-de-east-1 (European Sovereign Cloud): a separate partition with its own
  accounts; the stack has not been tried there.
"""

from __future__ import annotations

EU_REGIONS: dict[str, str] = {
    "eu-central-1": "Frankfurt",
    "eu-west-1": "Ireland",
    "eu-west-3": "Paris",
    "eu-north-1": "Stockholm",
}


class RegionNotAllowed(ValueError):
    """The region would take school data outside the EU, or lacks a service."""


def check_region(region: str) -> str:
    if region not in EU_REGIONS:
        allowed = ", ".join(sorted(EU_REGIONS))
        raise RegionNotAllowed(
            f"{region!r} is not an allowed region: school data stays in EU regions "
            f"that offer every service the stack needs (infra/regions.py). "
            f"Allowed: {allowed}"
        )
    return region
