"""The per-region stack: the dry run builds a finished template per region and
stage that cfn-lint accepts, that matches the models, that deploys into moto as
far as moto's CloudFormation reaches, and that keeps the audit trail append-only
and the data in the EU.

The templates are built once per session by `python -m infra.deploy --dry-run`
(which runs `chalice package`); nothing here calls the AWS CLI or reaches AWS.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint
from chalice.package import TemplateDeepMerger
from moto import mock_aws
from pynamodb.models import Model

from chalicelib.models import ALL_MODELS, AuditEvent, RateCounter
from infra import deploy, edge, stack
from infra.regions import EU_REGIONS, RegionNotAllowed, check_region

REGIONS = ("eu-central-1", "eu-west-1")
STAGES = ("dev", "prod")
TARGETS = [(region, stage) for region in REGIONS for stage in STAGES]
TARGET_IDS = [f"{region}-{stage}" for region, stage in TARGETS]

# Settings chalicelib/config.py reads that the stack must provide (AWS_REGION is
# set by Lambda itself; M5_COGNITO_JWKS_URL defaults to Cognito's own key set).
FUNCTION_SETTINGS = {
    "M5_STAGE",
    "M5_TABLE_PREFIX",
    "M5_MAIL_FROM",
    "M5_PUBLIC_BASE_URL",
    "M5_SECRET_KEY",
    "M5_COGNITO_POOL_ID",
    "M5_COGNITO_CLIENT_ID",
}
AUDIT_ACTIONS = {"dynamodb:putitem", "dynamodb:getitem", "dynamodb:query"}
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}
# Resource types moto's CloudFormation creates (moto/cloudformation/parsing.py).
MOTO_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
}
PARAMETER_VALUES = {
    "MailDomain": "m5monitor.example",
    "PublicHostName": "meld.m5monitor.example",
    "AlarmEmail": "operator@m5monitor.example",
}

Template = dict[str, Any]


# `chalice package` zips the whole deployment package (seconds each under load), so
# the dry run runs once per stage, each time in another region; the template of
# the other region is that same Chalice output merged with the other region's
# merge template by Chalice's own merger (merge templates differ only in values).
BUILT = {("eu-central-1", "dev"): "eu-west-1", ("eu-west-1", "prod"): "eu-central-1"}


def _dry_run(region: str, stage: str, out: Path) -> Template:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = deploy.main(
            ["--region", region, "--stage", stage, "--dry-run", "--out", str(out)]
        )
    assert status == 0
    assert f"template: {out / 'sam.json'}" in printed.getvalue()
    template: Template = json.loads((out / "sam.json").read_text())
    return template


@pytest.fixture(scope="session")
def templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], Template]:
    """The finished template for every region and stage."""
    finished = {}
    for (region, stage), other_region in BUILT.items():
        out = tmp_path_factory.mktemp(f"{stage}-{region}")
        finished[(region, stage)] = _dry_run(region, stage, out)
        finished[(other_region, stage)] = TemplateDeepMerger().merge(
            stack.merge_template(other_region, stage), finished[(region, stage)]
        )
    assert set(finished) == set(TARGETS)
    return finished


def _resources_of(template: Template, *types: str) -> dict[str, Template]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] in types
    }


def _table_named(template: Template, name: str) -> Template:
    tables = _resources_of(template, "AWS::DynamoDB::Table")
    matches = [t for t in tables.values() if t["Properties"]["TableName"] == name]
    assert len(matches) == 1, f"{name}: {len(matches)} tables in the template"
    properties: Template = matches[0]["Properties"]
    return properties


def _keys(key_schema: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def _table_name(model: type[Model], stage: str) -> str:
    base_name: str = getattr(model.Meta, "base_name")  # noqa: B009  (set by _meta)
    return f"m5-{stage}-{base_name}"


# --- the region allow-list ------------------------------------------------------


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-2", "eu-central-2", "eu-south-1", "eu-south-2"]
)
def test_region_outside_allow_list_is_refused(region: str) -> None:
    with pytest.raises(RegionNotAllowed):
        check_region(region)

    with pytest.raises(RegionNotAllowed):
        stack.merge_template(region, "prod")


def test_deploy_refuses_us_east_1_before_building_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = deploy.main(
        [
            "--region",
            "us-east-1",
            "--stage",
            "prod",
            "--dry-run",
            "--out",
            str(tmp_path),
        ]
    )

    assert status == 2
    assert "not an allowed region" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_every_allowed_region_is_in_the_eu() -> None:
    eu_member_state_regions = {
        "eu-central-1",
        "eu-west-1",
        "eu-west-3",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
    }

    assert set(EU_REGIONS) <= eu_member_state_regions


def test_deployment_commands_target_the_chosen_region(tmp_path: Path) -> None:
    target = deploy.Target("eu-west-3", "prod", tmp_path)
    parameters = deploy.StackParameters(
        mail_domain="m5monitor.example",
        public_host="meld.m5monitor.example",
        alarm_email="operator@m5monitor.example",
    )

    package, deploy_stack = deploy.aws_commands(target, "m5-packages", parameters)

    assert package[:3] == ["aws", "cloudformation", "package"]
    assert deploy_stack[:3] == ["aws", "cloudformation", "deploy"]
    for command in (package, deploy_stack):
        assert command[command.index("--region") + 1] == "eu-west-3"
    assert deploy_stack[deploy_stack.index("--stack-name") + 1] == "m5-prod"
    assert "MailDomainVerified=false" in deploy_stack


def test_deploy_without_dry_run_needs_the_stack_parameters(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--package-bucket"):
        deploy.main(["--region", "eu-west-1", "--stage", "dev", "--out", str(tmp_path)])


# --- the finished templates -----------------------------------------------------


@pytest.mark.package
@pytest.mark.parametrize(("region", "stage"), TARGETS, ids=TARGET_IDS)
def test_finished_template_passes_cfn_lint(
    templates: dict[tuple[str, str], Template], region: str, stage: str
) -> None:
    text = json.dumps(templates[(region, stage)], indent=1)

    findings = lint(text, config=ManualArgs(regions=[region], include_checks=["I"]))

    assert [str(finding) for finding in findings] == []


@pytest.mark.package
def test_every_allowed_region_offers_every_resource_type(
    templates: dict[tuple[str, str], Template],
) -> None:
    text = json.dumps(templates[("eu-central-1", "prod")], indent=1)

    findings = lint(text, config=ManualArgs(regions=sorted(EU_REGIONS)))

    assert [str(finding) for finding in findings] == []


@pytest.mark.package
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_table_and_index_is_in_the_template(
    templates: dict[tuple[str, str], Template], model: type[Model], stage: str
) -> None:
    schema = model._get_schema()

    table = _table_named(templates[(REGIONS[0], stage)], _table_name(model, stage))

    assert _keys(table["KeySchema"]) == _keys(schema["key_schema"])
    declared = {
        a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]
    }
    for attribute in schema["attribute_definitions"]:
        assert declared[attribute["AttributeName"]] == attribute["AttributeType"]
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i["index_name"] for i in schema["global_secondary_indexes"]}
    for index in schema["global_secondary_indexes"]:
        in_template = indexes[index["index_name"]]
        assert _keys(in_template["KeySchema"]) == _keys(index["key_schema"])
        assert in_template["Projection"] == index["projection"]
    assert (
        not table.get("LocalSecondaryIndexes") and not schema["local_secondary_indexes"]
    )


@pytest.mark.package
def test_template_has_no_table_without_a_model(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-west-1", "prod")]

    names = {
        t["Properties"]["TableName"]
        for t in _resources_of(template, "AWS::DynamoDB::Table").values()
    }

    assert names == {_table_name(model, "prod") for model in ALL_MODELS}


@pytest.mark.package
def test_tables_are_encrypted_with_the_stack_key_and_recoverable(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-central-1", "prod")]

    tables = _resources_of(template, "AWS::DynamoDB::Table").values()

    for table in tables:
        properties = table["Properties"]
        assert properties["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
        }
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
        assert properties["DeletionProtectionEnabled"] is True
    ttl = _table_named(template, _table_name(RateCounter, "prod"))
    assert ttl["TimeToLiveSpecification"]["AttributeName"] == "expires"
    assert template["Resources"]["DataKey"]["Properties"]["EnableKeyRotation"] is True


@pytest.mark.package
def test_stack_wires_every_function_in_the_template(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-central-1", "dev")]

    functions = _resources_of(template, *FUNCTION_TYPES)

    assert set(functions) == set(stack.FUNCTIONS)
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) >= FUNCTION_SETTINGS, name
        assert variables["M5_TABLE_PREFIX"] == "m5-dev-"
        assert "{{resolve:secretsmanager:" in variables["M5_SECRET_KEY"]["Fn::Sub"]
        assert variables["M5_COGNITO_POOL_ID"] == {"Ref": "UserPool"}


@pytest.mark.package
def test_every_function_log_group_expires_and_names_its_function(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-central-1", "prod")]

    groups = {
        group["Properties"]["LogGroupName"]["Fn::Sub"]: group["Properties"]
        for group in _resources_of(template, "AWS::Logs::LogGroup").values()
        if "LogGroupName" in group["Properties"]
    }

    for function in _resources_of(template, *FUNCTION_TYPES):
        group = groups[f"/aws/lambda/${{{function}}}"]
        assert group["RetentionInDays"] == stack.LOG_RETENTION_DAYS


def _function_roles(template: Template) -> set[str]:
    roles = set()
    for function in _resources_of(template, *FUNCTION_TYPES).values():
        role = function["Properties"]["Role"]
        assert isinstance(role, dict), "a function uses a role the stack does not own"
        roles.add(role["Fn::GetAtt"][0])
    return roles


def _statements(template: Template, role: str) -> list[Template]:
    properties = template["Resources"][role]["Properties"]
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    for policy in _resources_of(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"].get("Roles", []):
            documents.append(policy["Properties"]["PolicyDocument"])
    return [statement for document in documents for statement in document["Statement"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers_audit_table(resource: Any, audit_logical_id: str, audit_arn: str) -> bool:
    if isinstance(resource, str):
        return fnmatch.fnmatchcase(audit_arn, resource)
    return audit_logical_id in json.dumps(resource)


@pytest.mark.package
@pytest.mark.parametrize(("region", "stage"), TARGETS, ids=TARGET_IDS)
def test_functions_cannot_change_or_remove_audit_entries(
    templates: dict[tuple[str, str], Template], region: str, stage: str
) -> None:
    template = templates[(region, stage)]
    audit_arn = (
        f"arn:aws:dynamodb:{region}:123456789012:table/{_table_name(AuditEvent, stage)}"
    )
    audit_id = next(
        name
        for name, table in _resources_of(template, "AWS::DynamoDB::Table").items()
        if table["Properties"]["TableName"] == _table_name(AuditEvent, stage)
    )

    granted_on_audit: set[str] = set()
    for role in _function_roles(template):
        assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns")
        for statement in _statements(template, role):
            assert "NotAction" not in statement and "NotResource" not in statement
            if statement["Effect"] != "Allow":
                continue
            resources = _as_list(statement["Resource"])
            if any(_covers_audit_table(r, audit_id, audit_arn) for r in resources):
                granted_on_audit |= {a.lower() for a in _as_list(statement["Action"])}

    assert granted_on_audit == AUDIT_ACTIONS
    assert not {"dynamodb:updateitem", "dynamodb:deleteitem", "dynamodb:*", "*"} & (
        granted_on_audit
    )


@pytest.mark.package
def test_mail_events_reach_their_function_from_the_queue(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-central-1", "prod")]
    resources = template["Resources"]

    [mapping] = _resources_of(template, "AWS::Lambda::EventSourceMapping").values()
    function = resources[stack.MAIL_EVENTS]["Properties"]
    queue = resources["MailEventsQueue"]["Properties"]
    alarms = _resources_of(template, "AWS::CloudWatch::Alarm").values()

    assert mapping["Properties"] == {
        "FunctionName": {"Ref": stack.MAIL_EVENTS},
        "EventSourceArn": {"Fn::GetAtt": ["MailEventsQueue", "Arn"]},
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "Enabled": True,
    }
    assert function["Handler"] == "app.mail_events_handler"
    # Lambda refuses a mapping whose queue hides messages for less than the
    # function may run.
    assert queue["VisibilityTimeout"] >= function["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]
    }
    dead_letters = {"Fn::GetAtt": ["MailEventsDeadLetterQueue", "QueueName"]}
    assert any(
        {"Name": "QueueName", "Value": dead_letters}
        in alarm["Properties"]["Dimensions"]
        for alarm in alarms
    )


@pytest.mark.package
def test_mail_events_function_only_reads_its_queue_and_flags_staff(
    templates: dict[tuple[str, str], Template],
) -> None:
    template = templates[("eu-west-1", "dev")]

    statements = _statements(template, stack.MAIL_EVENTS_ROLE)

    granted = {
        action: json.dumps(statement["Resource"])
        for statement in statements
        for action in _as_list(statement["Action"])
    }
    assert set(granted) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert "MailEventsQueue" in granted["sqs:DeleteMessage"]
    assert (
        granted["dynamodb:Query"]
        == '[{"Fn::Sub": "${StaffMemberTable.Arn}/index/by-email"}]'
    )
    assert "StaffMemberTable" in granted["dynamodb:UpdateItem"]
    assert "AuditEventTable" in granted["dynamodb:PutItem"]


@pytest.mark.package
def test_cloudfront_serves_form_api_and_staff_from_one_origin(
    templates: dict[tuple[str, str], Template],
) -> None:
    config = templates[("eu-central-1", "prod")]["Resources"]["Distribution"][
        "Properties"
    ]["DistributionConfig"]

    behaviours = {
        b["PathPattern"]: b["TargetOriginId"] for b in config["CacheBehaviors"]
    }
    origins = {o["Id"]: o for o in config["Origins"]}

    assert behaviours == {
        "/s/*": "form",
        "/form-assets/*": "form",
        "/api/*": "api",
        "/staff*": "staff",
    }
    assert origins["api"]["OriginPath"] == ""
    assert origins["staff"]["OriginPath"] == "/api"
    assert "OriginAccessControlId" in origins["form"]


@pytest.mark.parametrize(
    ("rule", "path", "limited"),
    [
        ("ReportIntakeRate", "/api/schools/obs-de-regenboog/reports", True),
        ("ReportIntakeRate", "/api/schools/obs-de-regenboog/form", False),
        ("ReceiptLookupRate", "/api/schools/het-baken-college/status", True),
        ("ReceiptLookupRate", "/api/schools/het-baken-college/messages", True),
        ("ReceiptLookupRate", "/api/schools/het-baken-college/reply-alert", True),
        ("ReceiptLookupRate", "/api/schools/het-baken-college/reports", False),
        ("StaffSignInRate", "/api/staff/login", True),
        ("StaffSignInRate", "/api/staff/reports/1", False),
    ],
)
def test_firewall_rate_rules_cover_public_endpoints(
    rule: str, path: str, limited: bool
) -> None:
    rules = {
        r["Name"]: r for r in edge.firewall()["ApiFirewall"]["Properties"]["Rules"]
    }

    scope = rules[rule]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    regex = scope["AndStatement"]["Statements"][1]["RegexMatchStatement"]["RegexString"]

    assert bool(re.search(regex, path)) is limited


# --- what moto's CloudFormation can deploy --------------------------------------


def _moto_template(template: Template) -> Template:
    """The resources moto can create; references to the others become their names."""
    kept = {n: r for n, r in template["Resources"].items() if r["Type"] in MOTO_TYPES}
    text = json.dumps(kept)
    for dropped in set(template["Resources"]) - set(kept):
        text = text.replace(f"${{{dropped}}}", dropped)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template["Parameters"],
        "Conditions": template["Conditions"],
        "Resources": json.loads(text),
    }


@pytest.mark.package
@pytest.mark.parametrize(("region", "stage"), TARGETS, ids=TARGET_IDS)
def test_storage_encryption_and_logs_deploy_into_moto(
    templates: dict[tuple[str, str], Template], region: str, stage: str
) -> None:
    template = _moto_template(templates[(region, stage)])

    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=region)
        cloudformation.create_stack(
            StackName=f"m5-{stage}",
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v}
                for k, v in PARAMETER_VALUES.items()
            ],
        )
        status = cloudformation.describe_stacks(StackName=f"m5-{stage}")["Stacks"][0]
        dynamodb = boto3.client("dynamodb", region_name=region)
        tables = {
            model: dynamodb.describe_table(TableName=_table_name(model, stage))["Table"]
            for model in ALL_MODELS
        }
        kms = boto3.client("kms", region_name=region)
        alias = next(
            a
            for a in kms.list_aliases()["Aliases"]
            if a["AliasName"] == f"alias/m5-{stage}-data"
        )
        rotation = kms.get_key_rotation_status(KeyId=alias["TargetKeyId"])
        s3 = boto3.client("s3", region_name=region)
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        encryption = [s3.get_bucket_encryption(Bucket=b) for b in buckets]
        log_groups = boto3.client("logs", region_name=region).describe_log_groups()

    assert status["StackStatus"] == "CREATE_COMPLETE"
    for model, table in tables.items():
        schema = model._get_schema()
        assert _keys(table["KeySchema"]) == _keys(schema["key_schema"])
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
            i["index_name"] for i in schema["global_secondary_indexes"]
        }
        assert table["DeletionProtectionEnabled"] is True
    assert rotation["KeyRotationEnabled"] is True
    assert len(buckets) == 2
    assert all(e["ServerSideEncryptionConfiguration"]["Rules"] for e in encryption)
    assert {g["retentionInDays"] for g in log_groups["logGroups"]} == {
        stack.LOG_RETENTION_DAYS
    }


# --- the CloudFront functions, run in Node when it is installed -----------------


def _run_viewer_request(code: str, request: Template) -> Template:
    event = {"request": request, "viewer": {"ip": "203.0.113.7"}}
    script = (
        f"{code}\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    )
    result = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, check=True, timeout=30
    )
    answer: Template = json.loads(result.stdout)
    return answer


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


@needs_node
@pytest.mark.parametrize(
    ("uri", "served", "status"),
    [
        ("/s/obs-de-regenboog/", "/form-assets/index.html", None),
        ("/s/obs-de-regenboog/status", "/form-assets/status.html", None),
        ("/s/obs-de-regenboog", None, 308),
        ("/s/obs-de-regenboog/status/extra", None, 404),
        ("/s/", None, 404),
    ],
)
def test_form_addresses_serve_the_pages_the_local_front_serves(
    uri: str, served: str | None, status: int | None
) -> None:
    answer = _run_viewer_request(edge.FORM_PATH_FUNCTION, {"uri": uri, "headers": {}})

    assert answer.get("uri") == served
    assert answer.get("statusCode") == status
    if status == 308:
        assert answer["headers"]["location"]["value"] == f"{uri}/"


@needs_node
def test_client_cannot_choose_the_address_the_firewall_counts() -> None:
    spoofed = {edge.CLIENT_ADDRESS_HEADER: {"value": "198.51.100.1"}}

    answer = _run_viewer_request(
        edge.CLIENT_ADDRESS_FUNCTION, {"uri": "/api/x", "headers": spoofed}
    )

    assert answer["headers"][edge.CLIENT_ADDRESS_HEADER] == {"value": "203.0.113.7"}
