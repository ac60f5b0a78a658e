"""The stack's tables come from the models: same names, keys and TTL."""

import pytest

from chalicelib.models import ALL_MODELS
from infra.tables import table_resources


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_has_a_table_with_the_same_keys(model):
    resources = table_resources("prod")

    table = resources[f"{model.__name__}Table"]["Properties"]

    assert table["TableName"] == f"m5-prod-{model.Meta.base_name}"
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    assert keys["HASH"] == model._hash_keyname
    assert keys.get("RANGE") == model._range_keyname
    assert table["KeySchema"][0]["KeyType"] == "HASH"


def test_tables_with_a_ttl_attribute_expire_items():
    resources = table_resources("prod")

    ttl = resources["RateCounterTable"]["Properties"]["TimeToLiveSpecification"]

    assert ttl == {"AttributeName": "expires", "Enabled": True}


def test_tables_are_protected_against_loss():
    for resource in table_resources("prod").values():
        properties = resource["Properties"]
        assert resource["DeletionPolicy"] == "Retain"
        assert properties["PointInTimeRecoverySpecification"][
            "PointInTimeRecoveryEnabled"
        ]
        assert properties["DeletionProtectionEnabled"] is True
