"""DynamoDB tables for the stack, generated from the PynamoDB models."""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from chalicelib.models import ALL_MODELS


def logical_id(model: type[Model]) -> str:
    return f"{model.__name__}Table"


def table_name(model: type[Model], stage: str) -> str:
    base_name: str = getattr(model.Meta, "base_name")  # noqa: B009  (set by _meta)
    return f"m5-{stage}-{base_name}"


def _key_schema(schema: dict[str, Any]) -> list[dict[str, str]]:
    # CloudFormation wants HASH before RANGE; PynamoDB's order is not guaranteed.
    keys = sorted(schema["key_schema"], key=lambda k: k["KeyType"] != "HASH")
    return [
        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys
    ]


def table_resource(model: type[Model], stage: str) -> dict[str, Any]:
    schema: dict[str, Any] = dict(model._get_schema())
    properties: dict[str, Any] = {
        "TableName": table_name(model, stage),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _key_schema(schema),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
    }
    if schema["global_secondary_indexes"]:
        properties["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema({"key_schema": index["key_schema"]}),
                "Projection": index["projection"],
            }
            for index in schema["global_secondary_indexes"]
        ]
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {
            "AttributeName": ttl.attr_name,
            "Enabled": True,
        }
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def table_resources(stage: str) -> dict[str, dict[str, Any]]:
    return {logical_id(model): table_resource(model, stage) for model in ALL_MODELS}
