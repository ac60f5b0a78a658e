"""Small builders for CloudFormation intrinsic functions, so templates read as data."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

NO_VALUE: Json = {"Ref": "AWS::NoValue"}


def ref(name: str) -> Json:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


def if_(condition: str, when_true: Any, when_false: Any) -> Json:
    return {"Fn::If": [condition, when_true, when_false]}


def secret_value(secret_logical_id: str) -> Json:
    """The secret's string, resolved by CloudFormation while it deploys."""
    return sub(f"{{{{resolve:secretsmanager:${{{secret_logical_id}}}:SecretString}}}}")


def policy(*statements: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: list[str], resources: Any, **extra: Any) -> Json:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}
