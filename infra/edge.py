"""The public edge: one CloudFront origin for the form, the API and staff pages,
the form's S3 bucket, the log bucket and the regional firewall in front of the API.

Browsers see one origin, so the form calls /api/... without CORS. CloudFront
reaches API Gateway twice: /api/* as is (the stage is called "api"), and
/staff* through an origin path that adds the stage prefix.

The firewall sits at the regional API stage, which only sees CloudFront's own
addresses. Two headers close that gap: CloudFront adds a secret origin header
(requests without it came around CloudFront and are blocked), and a CloudFront
function sets the viewer's address in a header of our own, overwriting any value
the client sent, which the rate rules count by.
"""

from __future__ import annotations

from typing import Any

from infra.cfn import (
    NO_VALUE,
    Json,
    allow,
    get_att,
    if_,
    policy,
    ref,
    secret_value,
    sub,
)
from local.front import FORM_HEADERS

REST_API = "RestAPI"
ORIGIN_VERIFY_HEADER = "x-m5-origin-verify"
CLIENT_ADDRESS_HEADER = "x-m5-client-ip"
# API Gateway decodes a base64 body only when the request's first Accept type is
# a binary type; a browser following a link asks for text/html first, so the
# function asks for the PDF on its behalf.
PDF_TYPE = "application/pdf"

# AWS-managed CloudFront policies (fixed ids, the same in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# CloudFront and S3 access logs hold viewer addresses: kept for breach
# investigation for this long, then deleted.
ACCESS_LOG_DAYS = 90
TWO_YEARS = 63_072_000

# Per client address, per 5 minutes. A whole class may report from one school
# network in a lesson, so intake allows far more than one person needs; receipt
# codes are guessed by brute force, so lookups allow far fewer.
REPORT_RATE_LIMIT = 300
RECEIPT_RATE_LIMIT = 100
SIGN_IN_RATE_LIMIT = 100

# The headers the local front sends with the form page, so local and deployed agree.
FORM_CONTENT_SECURITY_POLICY = FORM_HEADERS["Content-Security-Policy"]
FORM_CACHE_CONTROL = FORM_HEADERS["Cache-Control"]

# The same addresses the local front serves (local/front.py): /s/<slug>/ is the
# form and /s/<slug>/status the reporter's status page. The browser keeps that
# address (the pages read the slug from it) while S3 serves the one file.
FORM_PATH_FUNCTION = """\
function handler(event) {
  var request = event.request;
  var match = /^\\/s\\/([^\\/]+)(\\/|\\/status)?$/.exec(request.uri);
  if (!match) {
    return { statusCode: 404, statusDescription: "Not Found" };
  }
  if (match[2] === undefined) {
    return {
      statusCode: 308,
      statusDescription: "Permanent Redirect",
      headers: { location: { value: "/s/" + match[1] + "/" } }
    };
  }
  request.uri = match[2] === "/" ? "/form-assets/index.html" : "/form-assets/status.html";
  return request;
}
"""

CLIENT_ADDRESS_FUNCTION = f"""\
function handler(event) {{
  var request = event.request;
  request.headers["{CLIENT_ADDRESS_HEADER}"] = {{ value: event.viewer.ip }};
  if (/\\.pdf$/.test(request.uri)) {{
    request.headers["accept"] = {{ value: "{PDF_TYPE}" }};
  }}
  return request;
}}
"""


def _private_bucket(**properties: Any) -> Json:
    return {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            **properties,
        },
    }


def _deny_plain_http(bucket: str) -> Json:
    return {
        "Sid": "HttpsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [get_att(bucket, "Arn"), sub(f"${{{bucket}.Arn}}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def buckets() -> dict[str, Json]:
    log_bucket = _private_bucket(
        # CloudFront's standard logs are delivered with an ACL.
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        LifecycleConfiguration={
            "Rules": [
                {
                    "Id": "expire-access-logs",
                    "Status": "Enabled",
                    "ExpirationInDays": ACCESS_LOG_DAYS,
                }
            ]
        },
    )
    log_bucket.update({"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    form_bucket = _private_bucket(
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        VersioningConfiguration={"Status": "Enabled"},
        LoggingConfiguration={
            "DestinationBucketName": ref("LogBucket"),
            "LogFilePrefix": "s3-form/",
        },
        LifecycleConfiguration={
            "Rules": [
                {
                    "Id": "expire-old-form-versions",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                }
            ]
        },
    )
    return {
        "LogBucket": log_bucket,
        "LogBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("LogBucket"),
                "PolicyDocument": policy(
                    _deny_plain_http("LogBucket"),
                    allow(
                        ["s3:PutObject"],
                        [sub("${LogBucket.Arn}/s3-form/*")],
                        Sid="S3ServerAccessLogs",
                        Principal={"Service": "logging.s3.amazonaws.com"},
                        Condition={
                            "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}
                        },
                    ),
                ),
            },
        },
        "FormBucket": form_bucket,
        "FormBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("FormBucket"),
                "PolicyDocument": policy(
                    _deny_plain_http("FormBucket"),
                    allow(
                        ["s3:GetObject"],
                        [sub("${FormBucket.Arn}/*")],
                        Sid="CloudFrontReadsForm",
                        Principal={"Service": "cloudfront.amazonaws.com"},
                        Condition={
                            "StringEquals": {
                                "AWS:SourceArn": sub(
                                    "arn:${AWS::Partition}:cloudfront::"
                                    "${AWS::AccountId}:distribution/${Distribution}"
                                )
                            }
                        },
                    ),
                ),
            },
        },
    }


def _function(name: str, comment: str, code: str) -> Json:
    return {
        "Type": "AWS::CloudFront::Function",
        "Properties": {
            "Name": sub(f"${{AWS::StackName}}-{name}"),
            "AutoPublish": True,
            "FunctionConfig": {"Comment": comment, "Runtime": "cloudfront-js-2.0"},
            "FunctionCode": code,
        },
    }


def _headers_policy(name: str, form: bool) -> Json:
    """HSTS and nosniff everywhere; the form page also gets its CSP and no-store.

    On the API and staff pages the app's own framing and referrer headers win.
    """
    security: Json = {
        "StrictTransportSecurity": {
            "AccessControlMaxAgeSec": TWO_YEARS,
            "IncludeSubdomains": True,
            "Override": True,
        },
        "ContentTypeOptions": {"Override": True},
        "FrameOptions": {"FrameOption": "DENY", "Override": form},
        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": form},
    }
    config: Json = {
        "Name": sub(f"${{AWS::StackName}}-{name}"),
        "SecurityHeadersConfig": security,
    }
    if form:
        security["ContentSecurityPolicy"] = {
            "ContentSecurityPolicy": FORM_CONTENT_SECURITY_POLICY,
            "Override": True,
        }
        # A shared family computer must not keep the form page in its cache.
        config["CustomHeadersConfig"] = {
            "Items": [
                {
                    "Header": "Cache-Control",
                    "Value": FORM_CACHE_CONTROL,
                    "Override": True,
                }
            ]
        }
    return {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {"ResponseHeadersPolicyConfig": config},
    }


def _api_origin(origin_id: str, origin_path: str) -> Json:
    return {
        "Id": origin_id,
        "DomainName": sub(
            f"${{{REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
        ),
        "OriginPath": origin_path,
        "CustomOriginConfig": {
            "OriginProtocolPolicy": "https-only",
            "OriginSSLProtocols": ["TLSv1.2"],
        },
        "OriginCustomHeaders": [
            {
                "HeaderName": ORIGIN_VERIFY_HEADER,
                "HeaderValue": secret_value("OriginVerifySecret"),
            }
        ],
    }


def _form_behaviour(path: str, headers: str, function: str | None = None) -> Json:
    behaviour: Json = {
        "PathPattern": path,
        "TargetOriginId": "form",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_OPTIMIZED,
        "Compress": True,
        "ResponseHeadersPolicyId": ref(headers),
    }
    if function:
        behaviour["FunctionAssociations"] = [
            {
                "EventType": "viewer-request",
                "FunctionARN": get_att(function, "FunctionARN"),
            }
        ]
    return behaviour


def _api_behaviour(path: str, origin_id: str) -> Json:
    return {
        "PathPattern": path,
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        "Compress": True,
        "ResponseHeadersPolicyId": ref("AppHeadersPolicy"),
        "FunctionAssociations": [
            {
                "EventType": "viewer-request",
                "FunctionARN": get_att("ClientAddressFunction", "FunctionARN"),
            }
        ],
    }


def _distribution() -> Json:
    default = _form_behaviour("*", "AppHeadersPolicy")
    del default["PathPattern"]
    return {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": sub("M5 Monitor ${AWS::StackName}"),
                "Aliases": if_("HasCertificate", [ref("PublicHostName")], NO_VALUE),
                "ViewerCertificate": if_(
                    "HasCertificate",
                    {
                        "AcmCertificateArn": ref("CertificateArn"),
                        "SslSupportMethod": "sni-only",
                        "MinimumProtocolVersion": "TLSv1.2_2021",
                    },
                    {"CloudFrontDefaultCertificate": True},
                ),
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                # Edges in Europe and North America only; nothing personal is cached.
                "PriceClass": "PriceClass_100",
                "Logging": {
                    "Bucket": get_att("LogBucket", "DomainName"),
                    "Prefix": "cloudfront/",
                    "IncludeCookies": False,
                },
                "Origins": [
                    {
                        "Id": "form",
                        "DomainName": get_att("FormBucket", "RegionalDomainName"),
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": get_att("FormAccessControl", "Id"),
                    },
                    _api_origin("api", ""),
                    _api_origin("staff", "/api"),
                ],
                "DefaultCacheBehavior": default,
                "CacheBehaviors": [
                    _form_behaviour("/s/*", "FormHeadersPolicy", "FormPathFunction"),
                    _form_behaviour("/form-assets/*", "AppHeadersPolicy"),
                    _api_behaviour("/api/*", "api"),
                    _api_behaviour("/staff*", "staff"),
                ],
            }
        },
    }


def distribution() -> dict[str, Json]:
    return {
        "FormAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": sub("${AWS::StackName}-form"),
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "FormPathFunction": _function(
            "form-path", "Serves the form page for /s/<slug>/", FORM_PATH_FUNCTION
        ),
        "ClientAddressFunction": _function(
            "client-address",
            "Passes the viewer address to the API firewall",
            CLIENT_ADDRESS_FUNCTION,
        ),
        "FormHeadersPolicy": _headers_policy("form-headers", form=True),
        "AppHeadersPolicy": _headers_policy("app-headers", form=False),
        "Distribution": _distribution(),
    }


def _text_match(field: Json, text: Any, constraint: str = "EXACTLY") -> Json:
    return {
        "ByteMatchStatement": {
            "FieldToMatch": field,
            "PositionalConstraint": constraint,
            "SearchString": text,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


def _visibility(metric: str) -> Json:
    return {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": metric,
    }


def _rate_rule(name: str, priority: int, limit: int, path_regex: str) -> Json:
    """Block a client address that POSTs to the matching paths too often."""
    return {
        "Name": name,
        "Priority": priority,
        "Action": {"Block": {}},
        "VisibilityConfig": _visibility(name),
        "Statement": {
            "RateBasedStatement": {
                "Limit": limit,
                "EvaluationWindowSec": 300,
                "AggregateKeyType": "FORWARDED_IP",
                "ForwardedIPConfig": {
                    "HeaderName": CLIENT_ADDRESS_HEADER,
                    "FallbackBehavior": "MATCH",
                },
                "ScopeDownStatement": {
                    "AndStatement": {
                        "Statements": [
                            _text_match({"Method": {}}, "POST"),
                            {
                                "RegexMatchStatement": {
                                    "FieldToMatch": {"UriPath": {}},
                                    "RegexString": path_regex,
                                    "TextTransformations": [
                                        {"Priority": 0, "Type": "NONE"}
                                    ],
                                }
                            },
                        ]
                    }
                },
            }
        },
    }


def _managed_rule(name: str, priority: int) -> Json:
    return {
        "Name": name,
        "Priority": priority,
        "OverrideAction": {"None": {}},
        "VisibilityConfig": _visibility(name),
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
    }


def firewall() -> dict[str, Json]:
    """Regional WAF on the API stage.

    The request path at the stage includes the stage name, so /api/... here.
    AWS's common rule set is left out on purpose: its body rules (cross-site
    scripting, size) block honest reports whose free text looks like markup; the
    app validates and escapes every field instead.
    """
    only_through_cloudfront = {
        "Name": "OnlyThroughCloudFront",
        "Priority": 0,
        "Action": {"Block": {}},
        "VisibilityConfig": _visibility("OnlyThroughCloudFront"),
        "Statement": {
            "NotStatement": {
                "Statement": _text_match(
                    {"SingleHeader": {"Name": ORIGIN_VERIFY_HEADER}},
                    secret_value("OriginVerifySecret"),
                )
            }
        },
    }
    return {
        # Replaceable: CloudFront and the firewall both pick up a new value.
        "OriginVerifySecret": {
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "Description": "Header value CloudFront adds so the API firewall "
                "can refuse requests that bypass CloudFront",
                "GenerateSecretString": {
                    "PasswordLength": 40,
                    "ExcludePunctuation": True,
                },
            },
        },
        "ApiFirewall": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Name": sub("${AWS::StackName}-api"),
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": _visibility("ApiFirewall"),
                "Rules": [
                    only_through_cloudfront,
                    _rate_rule(
                        "ReportIntakeRate",
                        1,
                        REPORT_RATE_LIMIT,
                        "^/api/schools/[^/]+/reports/?$",
                    ),
                    _rate_rule(
                        "ReceiptLookupRate",
                        2,
                        RECEIPT_RATE_LIMIT,
                        "^/api/schools/[^/]+/(status|messages|reply-alert)/?$",
                    ),
                    _rate_rule(
                        "StaffSignInRate",
                        3,
                        SIGN_IN_RATE_LIMIT,
                        "^/api/staff/(login|forgot|reset|new-password)/?$",
                    ),
                    _managed_rule("AWSManagedRulesAmazonIpReputationList", 10),
                    _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 11),
                ],
            },
        },
        "ApiFirewallAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                "ResourceArn": sub(
                    "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"
                    f"${{{REST_API}}}/stages/${{{REST_API}.Stage}}"
                ),
                "WebACLArn": get_att("ApiFirewall", "Arn"),
            },
        },
    }
