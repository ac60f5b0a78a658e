"""The daily retention job: every school's expired cases anonymised
(chalicelib/retention.py), each school on its own so one school's failure does
not stop the others.

The schools are listed with one Scan of the schools table (one item per school
of the region); the cases with one Query per school on the expiry pointers.
Runs that stop halfway or overlap are safe: see chalicelib/retention.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import retention
from chalicelib.models import School
from chalicelib.obs import logger


@dataclass
class Summary:
    dry_run: bool
    schools: list[dict[str, Any]] = field(default_factory=list)
    failed_schools: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "schools": len(self.schools),
            "expired": sum(s["expired"] for s in self.schools),
            "anonymised": sum(s["anonymised"] for s in self.schools),
            "held": sum(s["held"] for s in self.schools),
            "skipped": sum(s["skipped"] for s in self.schools),
            "failed_schools": self.failed_schools,
        }


def schools(school_ids: list[str] | None) -> list[School]:
    if school_ids is None:
        return sorted(School.scan(), key=lambda s: s.school_id)
    return list(School.batch_get(school_ids))


def run(school_ids: list[str] | None = None, dry_run: bool = False) -> Summary:
    summary = Summary(dry_run)
    for school in schools(school_ids):
        try:
            outcome = retention.run_school(school, dry_run=dry_run)
        except Exception:
            # The next day's run picks the school up where this one stopped.
            logger.exception("retention failed", extra={"school": school.school_id})
            summary.failed_schools.append(school.school_id)
            continue
        summary.schools.append(outcome.counts())
    logger.info("retention job done", extra=summary.counts())
    return summary
