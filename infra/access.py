"""What the Lambda functions may do: least privilege, table by table.

The audit trail is append-only. The code only ever adds entries (chalicelib/
audit.py); this policy makes that a property of the stack too: on the audit
table the functions may PutItem, GetItem and Query, and nothing that changes or
removes an entry (no UpdateItem, DeleteItem, BatchWriteItem or PartiQL).
"""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models import ALL_MODELS, AuditEvent, StaffMember
from infra.cfn import Json, allow, get_att, policy, sub
from infra.tables import logical_id

# Reads, and writes that change or remove items (retention deletes personal data,
# case handling updates reports). Scan is not granted: no request path scans.
READ_WRITE = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
# Adding an entry (alone or inside a transaction) and reading the trail.
APPEND_ONLY = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"]

# The calls chalicelib/auth.py makes. They are Cognito's public client calls, which
# the client id authorises; listing them here documents and bounds the set.
COGNITO_ACTIONS = [
    "cognito-idp:InitiateAuth",
    "cognito-idp:RespondToAuthChallenge",
    "cognito-idp:GlobalSignOut",
    "cognito-idp:ForgotPassword",
    "cognito-idp:ConfirmForgotPassword",
    # The two-step sign-in: whether the user has an app, and setting one up.
    "cognito-idp:GetUser",
    "cognito-idp:AssociateSoftwareToken",
    "cognito-idp:VerifySoftwareToken",
    "cognito-idp:SetUserMFAPreference",
]
# The school administrator's staff pages (chalicelib/staff_admin.py) create users
# with a temporary password and switch them off and on. Deleting users is left to
# the operator's own credentials (infra/ops.py).
COGNITO_ADMIN_ACTIONS = [
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
]


def table_actions(model: type[Model]) -> list[str]:
    return APPEND_ONLY if model is AuditEvent else READ_WRITE


def _table_statements() -> list[Json]:
    statements = []
    for model in ALL_MODELS:
        table = logical_id(model)
        statements.append(
            allow(table_actions(model), [get_att(table, "Arn")], Sid=f"{table}Items")
        )
        if model._get_schema()["global_secondary_indexes"]:
            statements.append(
                allow(
                    ["dynamodb:Query"],
                    [sub(f"${{{table}.Arn}}/index/*")],
                    Sid=f"{table}Indexes",
                )
            )
    return statements


def _table_key_statement(data_key: str) -> Json:
    return allow(
        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        [get_att(data_key, "Arn")],
        Sid="TableKeyThroughDynamoDB",
        Condition={
            "StringEquals": {
                "kms:ViaService": sub("dynamodb.${AWS::Region}.amazonaws.com")
            }
        },
    )


def _log_statement() -> Json:
    # Logs, and the metrics embedded in them (EMF): no CloudWatch API rights.
    return allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [
            sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                ":log-group:/aws/lambda/${AWS::StackName}-*:*"
            )
        ],
        Sid="FunctionLogs",
    )


def mail_events_policy(data_key: str, queue: str) -> Json:
    """The mail events function (functions/mail_events.py): it reads its queue,
    finds staff by address on the by-email index, flags them and adds an audit
    entry; nothing else (no mail, no Cognito, no reports)."""
    staff = logical_id(StaffMember)
    audit = logical_id(AuditEvent)
    return {
        "PolicyName": "m5-mail-events",
        "PolicyDocument": policy(
            allow(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                ],
                [get_att(queue, "Arn")],
                Sid="MailEventsQueue",
            ),
            allow(
                ["dynamodb:Query"],
                [sub(f"${{{staff}.Arn}}/index/{StaffMember.by_email.Meta.index_name}")],
                Sid="StaffByEmail",
            ),
            allow(["dynamodb:UpdateItem"], [get_att(staff, "Arn")], Sid="FlagStaff"),
            allow(["dynamodb:PutItem"], [get_att(audit, "Arn")], Sid="AuditEntry"),
            _table_key_statement(data_key),
            _log_statement(),
        ),
    }


def function_policy(
    data_key: str, mail_identity_arn: Json, config_set: str, mail_from: Json
) -> Json:
    """The one inline policy of every function role (replaces Chalice's own)."""
    return {
        "PolicyName": "m5-function",
        "PolicyDocument": policy(
            *_table_statements(),
            _table_key_statement(data_key),
            allow(
                ["ses:SendEmail", "ses:SendRawEmail"],
                [
                    mail_identity_arn,
                    sub(
                        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                        f":configuration-set/${{{config_set}}}"
                    ),
                ],
                Sid="StaffMail",
                Condition={"StringEquals": {"ses:FromAddress": mail_from}},
            ),
            allow(COGNITO_ACTIONS, [get_att("UserPool", "Arn")], Sid="StaffSignIn"),
            allow(
                COGNITO_ADMIN_ACTIONS,
                [get_att("UserPool", "Arn")],
                Sid="StaffAccounts",
            ),
            _log_statement(),
        ),
    }
