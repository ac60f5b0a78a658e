"""The per-region stack: everything the product needs besides what `chalice
package` generates, as a merge template for `chalice package --merge-template`.

Chalice's template brings the API (RestAPI), the function (APIHandler), its role
and log group. This template adds the tables, the key that encrypts them,
staff sign-in (Cognito), mail (SES), the edge (CloudFront, the form bucket, the
firewall), alarms and secrets, and reaches into Chalice's resources to wire the
function's environment, replace its role policy and tune the API stage.

Chalice's merge is a deep merge of objects in which lists are replaced whole, so
the role's `Policies` list here replaces Chalice's own.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.obs import SERVICE
from infra import edge
from infra.access import function_policy, mail_events_policy
from infra.cfn import Json, allow, get_att, if_, policy, ref, secret_value, sub
from infra.regions import check_region
from infra.tables import table_resources

DEPLOYED_STAGES = ("dev", "prod")
API_STAGE = "api"  # .chalice/config.json "api_gateway_stage"
METRICS_NAMESPACE = "M5Monitor"

# Logical ids in the template `chalice package` generates for this app.
FUNCTION = "APIHandler"
FUNCTION_ROLE = "ApiHandlerRole"
FUNCTION_LOG_GROUP = "ApiHandlerLogGroup"
REST_API = edge.REST_API
# The daily retention job (app.py's lambda_function "retention").
RETENTION = "Retention"
RETENTION_ROLE = "RetentionRole"
RETENTION_LOG_GROUP = "RetentionLogGroup"
# Every night at 03:00 school time, when nobody handles cases.
RETENTION_SCHEDULE = "cron(0 3 * * ? *)"
# The Monday teacher mail (app.py's lambda_function "weekly_teacher_mail").
WEEKLY_TEACHER_MAIL = "WeeklyTeacherMail"
WEEKLY_TEACHER_MAIL_ROLE = "WeeklyTeacherMailRole"
WEEKLY_TEACHER_MAIL_LOG_GROUP = "WeeklyTeacherMailLogGroup"
# The Monday leadership snapshot (lambda_function "weekly_leadership_snapshot").
WEEKLY_LEADERSHIP_SNAPSHOT = "WeeklyLeadershipSnapshot"
# The Monday jobs and what their schedules say they do.
WEEKLY_JOBS = {
    WEEKLY_TEACHER_MAIL: "Teacher mail with last week's figures",
    WEEKLY_LEADERSHIP_SNAPSHOT: "Leadership snapshot of last week's dashboard",
}
# SES's bounces and complaints from the mail events queue (lambda_function
# "mail_events").
MAIL_EVENTS = "MailEvents"
MAIL_EVENTS_ROLE = "MailEventsRole"
MAIL_EVENTS_LOG_GROUP = "MailEventsLogGroup"
# every function the stack wires; a test keeps this complete
FUNCTIONS = (
    FUNCTION,
    WEEKLY_TEACHER_MAIL,
    WEEKLY_LEADERSHIP_SNAPSHOT,
    RETENTION,
    MAIL_EVENTS,
)
# Lambda's maximum: a school's mails wait on SES's send rate and its backoff.
JOB_TIMEOUT_SECONDS = 900
# A batch of ten mail events is a few queries and updates. The queue hides a
# message being handled for six times that, as Lambda's documentation advises.
MAIL_EVENTS_TIMEOUT_SECONDS = 60
MAIL_EVENTS_BATCH_SIZE = 10
# Tries before a mail event moves to the dead-letter queue.
MAIL_EVENTS_MAX_RECEIVES = 5
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600
# Monday 07:00 in the schools' time zone, summer and winter time alike (Chalice's
# own schedules are UTC-only rules, so the schedule lives here).
WEEKLY_SCHEDULE = "cron(0 7 ? * MON *)"
SCHOOL_TIME_ZONE = "Europe/Amsterdam"

LOG_RETENTION_DAYS = 90
MAIL_FROM = sub("meldingen@${MailDomain}")

# Metrics the app adds (chalicelib/notify.py, the weekly mails); any count above
# zero needs a person to look.
APP_FAILURE_METRICS = {
    "MailFailed": "A staff mail could not be sent (urgent alert or reply notice).",
    "DeliveriesFailed": "Weekly mails could not be delivered.",
    "DeliveriesUnconfirmed": "Weekly mails were sent but not confirmed delivered.",
}

DOMAIN_PATTERN = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"

PARAMETERS: dict[str, Json] = {
    "MailDomain": {
        "Type": "String",
        "Description": "Domain staff mail is sent from (SES identity with DKIM), "
        "e.g. m5monitor.nl",
        "AllowedPattern": DOMAIN_PATTERN,
    },
    "PublicHostName": {
        "Type": "String",
        "Description": "Host name schools and staff use, e.g. meld.m5monitor.nl "
        "(without a certificate: the CloudFront domain of this stack)",
        "AllowedPattern": DOMAIN_PATTERN,
    },
    "CertificateArn": {
        "Type": "String",
        "Default": "",
        "Description": "ACM certificate for PublicHostName in us-east-1 (CloudFront "
        "requires that region); empty: no alias, CloudFront's own certificate",
        "AllowedPattern": r"^(|arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+)$",
    },
    "AlarmEmail": {
        "Type": "String",
        "Description": "Operator address that receives alarms",
        "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    },
    "MailDomainVerified": {
        "Type": "String",
        "Default": "false",
        "AllowedValues": ["true", "false"],
        "Description": "true once the DKIM records are published and SES shows the "
        "domain verified: Cognito then sends its mail through SES",
    },
}

CONDITIONS: dict[str, Json] = {
    "HasCertificate": {"Fn::Not": [{"Fn::Equals": [ref("CertificateArn"), ""]}]},
    "MailThroughSes": {"Fn::Equals": [ref("MailDomainVerified"), "true"]},
}


def table_prefix(stage: str) -> str:
    return f"m5-{stage}-"


def _retained(resource: Json) -> Json:
    return {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", **resource}


def data_key(stage: str) -> dict[str, Json]:
    """The customer-managed key for tables, secrets and the topics.

    Losing it loses every table, so it is kept when the stack goes.
    """
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {
                    "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                },
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "SesPublishesMailEvents",
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}
                },
            },
            # As in AWS's own example for alarms to encrypted topics; the topics'
            # policies decide who may publish, the key only lets CloudWatch encrypt.
            {
                "Sid": "CloudWatchPublishesAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
            },
        ],
    }
    return {
        "DataKey": _retained(
            {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": f"M5 Monitor {stage}: tables, secrets, topics",
                    "EnableKeyRotation": True,
                    "PendingWindowInDays": 30,
                    "KeyPolicy": key_policy,
                },
            }
        ),
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": f"alias/m5-{stage}-data",
                "TargetKeyId": ref("DataKey"),
            },
        },
    }


def tables(stage: str) -> dict[str, Json]:
    resources = table_resources(stage)
    for resource in resources.values():
        resource["Properties"]["SSESpecification"] = {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": get_att("DataKey", "Arn"),
        }
    return resources


def app_secret() -> dict[str, Json]:
    """M5_SECRET_KEY. Never rotated: receipt codes are stored as keyed hashes, so a
    new key would orphan every receipt code reporters hold; kept with the stack."""
    return {
        "AppSecret": _retained(
            {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Description": "M5_SECRET_KEY: signs sessions, hashes receipt codes",
                    "KmsKeyId": ref("DataKey"),
                    "GenerateSecretString": {
                        "PasswordLength": 64,
                        "ExcludePunctuation": True,
                    },
                },
            }
        )
    }


INVITE_MAIL = (
    "Je hebt een account voor M5 Monitor. Gebruikersnaam: {username} "
    "Tijdelijk wachtwoord: {####} / You have an M5 Monitor account. "
    "User name: {username} Temporary password: {####}"
)
CODE_MAIL = (
    "Je code om je wachtwoord te herstellen: {####} / "
    "Your code to reset your password: {####}"
)


def staff_sign_in(stage: str) -> dict[str, Json]:
    """Cognito: staff sign in with e-mail and password, optionally TOTP.

    MFA is OPTIONAL at the pool: coordinators and leadership must use it but
    teachers need not, so the rule belongs in the app, per role. Until the app
    enforces it, TOTP is every staff member's own choice.
    """
    ses_mail = {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": _mail_identity_arn(),
        "From": sub("M5 Monitor <meldingen@${MailDomain}>"),
        "ConfigurationSet": ref("MailConfigurationSet"),
    }
    pool = {
        "Type": "AWS::Cognito::UserPool",
        "Properties": {
            "UserPoolName": f"m5-{stage}-staff",
            "UsernameAttributes": ["email"],
            "UsernameConfiguration": {"CaseSensitive": False},
            "AutoVerifiedAttributes": ["email"],
            "AdminCreateUserConfig": {
                "AllowAdminCreateUserOnly": True,
                "InviteMessageTemplate": {
                    "EmailSubject": "M5 Monitor: je account / your account",
                    "EmailMessage": INVITE_MAIL,
                },
            },
            "VerificationMessageTemplate": {
                "DefaultEmailOption": "CONFIRM_WITH_CODE",
                "EmailSubject": "M5 Monitor: je code / your code",
                "EmailMessage": CODE_MAIL,
            },
            # Length over composition rules (NIST SP 800-63B).
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": False,
                    "RequireUppercase": False,
                    "RequireNumbers": False,
                    "RequireSymbols": False,
                    "TemporaryPasswordValidityDays": 7,
                }
            },
            "MfaConfiguration": "OPTIONAL",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "AccountRecoverySetting": {
                "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
            },
            "DeletionProtection": "ACTIVE",
            # Until the domain is verified Cognito's own mailer sends the codes.
            "EmailConfiguration": if_(
                "MailThroughSes",
                ses_mail,
                {"EmailSendingAccount": "COGNITO_DEFAULT"},
            ),
        },
    }
    client = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "ClientName": f"m5-{stage}-staff-pages",
            "UserPoolId": ref("UserPool"),
            "GenerateSecret": False,
            "ExplicitAuthFlows": [
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
            "AccessTokenValidity": 1,
            "IdTokenValidity": 1,
            "RefreshTokenValidity": 12,
            "TokenValidityUnits": {
                "AccessToken": "hours",
                "IdToken": "hours",
                "RefreshToken": "hours",
            },
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
        },
    }
    return {"UserPool": _retained(pool), "UserPoolClient": client}


def _mail_identity_arn() -> Json:
    return sub(
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"
    )


def mail(stage: str) -> dict[str, Json]:
    """SES: the DKIM-signed domain, and bounces and complaints kept for the operator.

    Bounced and complaining addresses go on SES's suppression list, so the app
    stops mailing them; each event also lands in a queue that the mail events
    function reads, flagging the staff address on the administrator's staff page.
    A message the function fails on five times moves to a dead-letter queue
    (14 days) with its own alarm.
    """
    return {
        "MailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "Name": f"m5-{stage}",
                "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
                "ReputationOptions": {"ReputationMetricsEnabled": True},
                "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
            },
        },
        "MailIdentity": {
            "Type": "AWS::SES::EmailIdentity",
            "Properties": {
                "EmailIdentity": ref("MailDomain"),
                "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
                "DkimAttributes": {"SigningEnabled": True},
                "ConfigurationSetAttributes": {
                    "ConfigurationSetName": ref("MailConfigurationSet")
                },
                "FeedbackAttributes": {"EmailForwardingEnabled": False},
            },
        },
        "MailEventsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": ref("DataKey")},
        },
        "MailEventsTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [ref("MailEventsTopic")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SesPublishesMailEvents",
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": ref("MailEventsTopic"),
                            "Condition": {
                                "StringEquals": {
                                    "AWS:SourceAccount": ref("AWS::AccountId")
                                }
                            },
                        }
                    ],
                },
            },
        },
        "MailEventsQueue": {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": 6 * MAIL_EVENTS_TIMEOUT_SECONDS,
                "RedrivePolicy": {
                    "deadLetterTargetArn": get_att("MailEventsDeadLetterQueue", "Arn"),
                    "maxReceiveCount": MAIL_EVENTS_MAX_RECEIVES,
                },
            },
        },
        "MailEventsDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        "MailEventsSource": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": ref(MAIL_EVENTS),
                "EventSourceArn": get_att("MailEventsQueue", "Arn"),
                "BatchSize": MAIL_EVENTS_BATCH_SIZE,
                # One unreadable message returns alone; the rest are deleted.
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "Enabled": True,
            },
        },
        "MailEventsQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref("MailEventsQueue")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TopicDelivers",
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": get_att("MailEventsQueue", "Arn"),
                            "Condition": {
                                "ArnEquals": {"aws:SourceArn": ref("MailEventsTopic")}
                            },
                        }
                    ],
                },
            },
        },
        "MailEventsSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": ref("MailEventsTopic"),
                "Protocol": "sqs",
                "Endpoint": get_att("MailEventsQueue", "Arn"),
                "RawMessageDelivery": True,
            },
        },
        "MailEventDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": ref("MailConfigurationSet"),
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint", "reject"],
                    "SnsDestination": {"TopicARN": ref("MailEventsTopic")},
                },
            },
        },
    }


def _alarm(name: str, description: str, metric: Json) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub(f"${{AWS::StackName}}-{name}"),
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "EvaluationPeriods": 1,
            "Period": 300,
            "Statistic": "Sum",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
            **metric,
        },
    }


def _metric(namespace: str, name: str, **dimensions: Any) -> Json:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
    }


def api_name(stage: str) -> str:
    return f"m5-monitor-{stage}"


def alarms(stage: str) -> dict[str, Json]:
    """Alarms to the operator's address. None of them carries personal data.

    The app's own metrics carry only the service dimension, not the stage: when
    dev and prod share an account and region, each stage's alarms also see the
    other stage's failures. Separate accounts per stage avoid that.
    """
    function = ref(FUNCTION)
    resources: dict[str, Json] = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": ref("DataKey")},
        },
        "AlarmMailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": ref("AlarmTopic"),
                "Protocol": "email",
                "Endpoint": ref("AlarmEmail"),
            },
        },
        "FunctionErrorsAlarm": _alarm(
            "function-errors",
            "The API function failed with an unhandled error. Read its log group.",
            _metric("AWS/Lambda", "Errors", FunctionName=function),
        ),
        "FunctionThrottlesAlarm": _alarm(
            "function-throttles",
            "The API function was throttled: requests were refused.",
            _metric("AWS/Lambda", "Throttles", FunctionName=function),
        ),
        "Api5xxAlarm": _alarm(
            "api-5xx",
            "The API answered with a server error (5xx).",
            _metric(
                "AWS/ApiGateway", "5XXError", ApiName=api_name(stage), Stage=API_STAGE
            ),
        ),
        "MailEventsAlarm": _alarm(
            "mail-bounces",
            "SES reported a bounce, complaint or reject. The staff address is "
            "flagged on its school's staff page for the administrator; act only "
            "when this repeats (SES pauses an account with many bounces).",
            _metric(
                "AWS/SNS",
                "NumberOfMessagesPublished",
                TopicName=get_att("MailEventsTopic", "TopicName"),
            ),
        ),
    }
    resources["MailEventsFailedAlarm"] = _alarm(
        "mail-events-failed",
        "Mail events the function could not handle wait in the dead-letter queue: "
        "read its log group, then redrive or delete them.",
        _metric(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            QueueName=get_att("MailEventsDeadLetterQueue", "QueueName"),
        ),
    )
    for metric, description in APP_FAILURE_METRICS.items():
        resources[f"{metric}Alarm"] = _alarm(
            metric, description, _metric(METRICS_NAMESPACE, metric, service=SERVICE)
        )
    return resources


# API access logs: which path answered what, without addresses or bodies. The
# stage sees only CloudFront's address; the viewer's is in CloudFront's logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "resource": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "waf": "$context.wafResponseCode",
        "cloudFrontId": "$context.extendedRequestId",
    },
    separators=(",", ":"),
)


def api_logs() -> dict[str, Json]:
    return {
        # Kept when the stack goes: evidence for a breach investigation (it still
        # expires after LOG_RETENTION_DAYS).
        "ApiAccessLogGroup": _retained(
            {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"RetentionInDays": LOG_RETENTION_DAYS},
            }
        )
    }


def _method_throttle(path: str, method: str, rate: int, burst: int) -> Json:
    # Stage-wide limits (all clients together) that bound cost and load; per-client
    # limits are the firewall's rate rules.
    return {
        "ResourcePath": path,
        "HttpMethod": method,
        "ThrottlingRateLimit": rate,
        "ThrottlingBurstLimit": burst,
        "MetricsEnabled": True,
        # Execution logs with data trace would copy report texts into CloudWatch.
        "LoggingLevel": "OFF",
        "DataTraceEnabled": False,
    }


def _function_environment(stage: str) -> Json:
    return {
        "Variables": {
            "M5_TABLE_PREFIX": table_prefix(stage),
            "M5_MAIL_FROM": MAIL_FROM,
            "M5_PUBLIC_BASE_URL": sub("https://${PublicHostName}"),
            "M5_SECRET_KEY": secret_value("AppSecret"),
            "M5_COGNITO_POOL_ID": ref("UserPool"),
            "M5_COGNITO_CLIENT_ID": ref("UserPoolClient"),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
    }


def _function_policy() -> Json:
    return function_policy(
        "DataKey", _mail_identity_arn(), "MailConfigurationSet", MAIL_FROM
    )


def _scheduler_role(name: str, sid: str, functions: list[str]) -> Json:
    """The role EventBridge Scheduler assumes to invoke these functions only."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": name,
                    "PolicyDocument": policy(
                        allow(
                            ["lambda:InvokeFunction"],
                            [get_att(function, "Arn") for function in functions],
                            Sid=sid,
                        )
                    ),
                }
            ],
        },
    }


def _schedule(description: str, expression: str, function: str, role: str) -> Json:
    """A schedule in the schools' time zone, retried twice within the hour."""
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "Description": description,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": SCHOOL_TIME_ZONE,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": get_att(function, "Arn"),
                "RoleArn": get_att(role, "Arn"),
                "Input": "{}",
                "RetryPolicy": {
                    "MaximumRetryAttempts": 2,
                    "MaximumEventAgeInSeconds": 3600,
                },
            },
        },
    }


def weekly_mail_schedule() -> dict[str, Json]:
    """EventBridge Scheduler: each Monday job at 07:00 school time."""
    resources: dict[str, Json] = {
        "WeeklyMailSchedulerRole": _scheduler_role(
            "m5-invoke-weekly-mail", "InvokeWeeklyMail", list(WEEKLY_JOBS)
        )
    }
    for job, description in WEEKLY_JOBS.items():
        # Deliveries are claimed per recipient and a snapshot is stored once,
        # so a retried invocation mails nobody twice.
        resources[f"{job}Schedule"] = _schedule(
            description, WEEKLY_SCHEDULE, job, "WeeklyMailSchedulerRole"
        )
    return resources


def _weekly_job(stage: str, function: str) -> dict[str, Json]:
    """A Monday job's function, log group and role, as Chalice names them."""
    return {
        function: {
            "Properties": {
                "Environment": _function_environment(stage),
                "Timeout": JOB_TIMEOUT_SECONDS,
            }
        },
        f"{function}LogGroup": _retained({}),
        f"{function}Role": {
            "Properties": {
                "Policies": [
                    _function_policy(),
                    {
                        # The job lists the region's schools once a week; request
                        # paths never scan, so only the Monday jobs' roles may.
                        "PolicyName": "m5-list-schools",
                        "PolicyDocument": policy(
                            allow(
                                ["dynamodb:Scan"],
                                [get_att("SchoolTable", "Arn")],
                                Sid="ListSchools",
                            )
                        ),
                    },
                ]
            }
        },
    }


def chalice_overrides(stage: str) -> dict[str, Json]:
    """Additions to the resources `chalice package` generates (deep-merged)."""
    receipt_paths = ("status", "messages", "reply-alert")
    return {
        FUNCTION: {"Properties": {"Environment": _function_environment(stage)}},
        FUNCTION_ROLE: {"Properties": {"Policies": [_function_policy()]}},
        **_weekly_job(stage, WEEKLY_TEACHER_MAIL),
        **_weekly_job(stage, WEEKLY_LEADERSHIP_SNAPSHOT),
        MAIL_EVENTS: {
            "Properties": {
                "Environment": _function_environment(stage),
                "Timeout": MAIL_EVENTS_TIMEOUT_SECONDS,
            }
        },
        MAIL_EVENTS_LOG_GROUP: _retained({}),
        MAIL_EVENTS_ROLE: {
            "Properties": {
                "Policies": [mail_events_policy("DataKey", "MailEventsQueue")]
            }
        },
        # Chalice names the function's log group after "ApiHandler", which it then
        # renames to APIHandler; point the group at the function that exists.
        FUNCTION_LOG_GROUP: _retained(
            {"Properties": {"LogGroupName": sub(f"/aws/lambda/${{{FUNCTION}}}")}}
        ),
        REST_API: {
            "Properties": {
                # The API's name is the metrics' ApiName: one per stage.
                "DefinitionBody": {"info": {"title": api_name(stage)}},
                "MethodSettings": [
                    _method_throttle("/*", "*", rate=100, burst=200),
                    _method_throttle("/~1schools~1{slug}~1reports", "POST", 20, 50),
                    *(
                        _method_throttle(
                            f"/~1schools~1{{slug}}~1{path}", "POST", 10, 20
                        )
                        for path in receipt_paths
                    ),
                ],
                "AccessLogSetting": {
                    "DestinationArn": get_att("ApiAccessLogGroup", "Arn"),
                    "Format": ACCESS_LOG_FORMAT,
                },
            }
        },
    }


def outputs() -> dict[str, Json]:
    values: dict[str, tuple[str, Any]] = {
        "PublicUrl": ("Address schools link to", sub("https://${PublicHostName}")),
        "DistributionDomainName": (
            "CNAME target for PublicHostName",
            get_att("Distribution", "DomainName"),
        ),
        "DistributionId": ("For cache invalidations", ref("Distribution")),
        "FormBucketName": ("Upload static_form/ here", ref("FormBucket")),
        "LogBucketName": ("CloudFront and S3 access logs", ref("LogBucket")),
        "UserPoolId": ("Staff accounts", ref("UserPool")),
        "UserPoolClientId": ("Staff pages' app client", ref("UserPoolClient")),
        "DataKeyArn": ("Encrypts tables and secrets", get_att("DataKey", "Arn")),
        "AlarmTopicArn": ("Alarms", ref("AlarmTopic")),
        "MailEventsQueueUrl": ("Bounces and complaints", ref("MailEventsQueue")),
        "MailEventsDeadLetterQueueArn": (
            "Mail events the function failed on",
            get_att("MailEventsDeadLetterQueue", "Arn"),
        ),
        "MailEventsLogGroupName": (
            "The mail events function's log",
            ref(MAIL_EVENTS_LOG_GROUP),
        ),
        "ApiAccessLogGroupName": ("API access logs", ref("ApiAccessLogGroup")),
    }
    result = {
        name: {"Description": description, "Value": value}
        for name, (description, value) in values.items()
    }
    for n in (1, 2, 3):
        result[f"DkimRecord{n}"] = {
            "Description": f"DKIM CNAME {n} to publish in the mail domain's DNS",
            "Value": {
                "Fn::Join": [
                    " CNAME ",
                    [
                        get_att("MailIdentity", f"DkimDNSTokenName{n}"),
                        get_att("MailIdentity", f"DkimDNSTokenValue{n}"),
                    ],
                ]
            },
        }
    return result


def retention_job(stage: str) -> dict[str, Json]:
    """The retention function's settings and rights, and its nightly schedule.

    It deletes and anonymises (the function policy's table rights) and lists the
    region's schools with a Scan of the schools table, which only it and the
    Monday jobs may do.
    """
    scheduler_role = _scheduler_role(
        "m5-invoke-retention", "InvokeRetention", [RETENTION]
    )
    # A retried run skips what the first one did (retention.py).
    schedule = _schedule(
        "Retention: personal data of expired cases removed",
        RETENTION_SCHEDULE,
        RETENTION,
        "RetentionSchedulerRole",
    )
    list_schools = {
        "PolicyName": "m5-list-schools",
        "PolicyDocument": policy(
            allow(["dynamodb:Scan"], [get_att("SchoolTable", "Arn")], Sid="ListSchools")
        ),
    }
    return {
        "RetentionSchedulerRole": scheduler_role,
        "RetentionSchedule": schedule,
        RETENTION: {
            "Properties": {
                "Environment": _function_environment(stage),
                "Timeout": JOB_TIMEOUT_SECONDS,
            }
        },
        RETENTION_LOG_GROUP: _retained({}),
        RETENTION_ROLE: {
            "Properties": {"Policies": [_function_policy(), list_schools]}
        },
    }


def check_stage(stage: str) -> str:
    if stage not in DEPLOYED_STAGES:
        raise ValueError(f"unknown stage {stage!r}; deployed stages: {DEPLOYED_STAGES}")
    return stage


def merge_template(region: str, stage: str) -> Json:
    """The merge template for one region and stage."""
    check_region(region)
    check_stage(stage)

    resources: dict[str, Json] = {
        **data_key(stage),
        **tables(stage),
        **app_secret(),
        **staff_sign_in(stage),
        **mail(stage),
        **edge.buckets(),
        **edge.distribution(),
        **edge.firewall(),
        **api_logs(),
        **alarms(stage),
        **weekly_mail_schedule(),
        **retention_job(stage),
        **chalice_overrides(stage),
    }
    return {
        "Description": f"M5 Monitor, stage {stage}, region {region}",
        "Parameters": PARAMETERS,
        "Conditions": CONDITIONS,
        "Rules": {
            "BuiltForThisRegion": {
                "Assertions": [
                    {
                        "Assert": {"Fn::Equals": [ref("AWS::Region"), region]},
                        "AssertDescription": f"This template was built for {region}: "
                        "build one per region with python -m infra.deploy",
                    }
                ]
            }
        },
        "Resources": resources,
        "Outputs": outputs(),
    }
