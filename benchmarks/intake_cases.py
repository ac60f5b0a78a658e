"""The intake paths the benchmark and its count test measure: one metered call each.

Import this only after the environment points at the emulator (see bulk_seed).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from faker import Faker

from benchmarks.dynamo_meter import Meter, metered
from chalicelib.models import School
from chalicelib.reports import list_recent, submit
from chalicelib.validation import validate_report
from local.seed import random_report

LIST_LIMIT = 50


@dataclass(frozen=True)
class FakeLambdaContext:
    """What Powertools' idempotency reads from the Lambda context."""

    function_name: str = "m5-monitor-dev"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-central-1:123456789012:function:m5-monitor-dev"
    )
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class IntakeCases:
    """Fresh valid reports for one school, and the metered calls."""

    def __init__(self, school: School, seed: int = 7) -> None:
        self.school = school
        self.fake = Faker("nl_NL")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.context = FakeLambdaContext()

    def submit(self) -> Meter:
        """One new report under a new idempotency key, as the form sends it.

        Its answers vary, its shape does not: one pupil hurt and one who did it,
        in two groups, so every submit writes the same number of index entries.
        """
        payload = random_report(self.school, self.fake, self.rng, day_offset=1)
        first, second = (g.id for g in self.school.groups[:2])
        payload["hurt"] = {"self": False, "persons": [self._pupil(first)]}
        payload["did_it"] = {"unknown": False, "persons": [self._pupil(second)]}
        report = validate_report(payload, self.school)
        key = str(uuid.UUID(int=self.rng.getrandbits(128)))
        with metered() as meter:
            submit(self.school, key, report, self.context)
        return meter

    def _pupil(self, group: str) -> dict[str, str]:
        return {"name": self.fake.name(), "group": group}

    def list_recent(self) -> Meter:
        with metered() as meter:
            list_recent(self.school.school_id, LIST_LIMIT)
        return meter
