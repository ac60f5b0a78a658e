"""Run inside the unpacked deployment package: `python -I -S package_probe.py DIR`.

-I keeps the environment and the script's folder off sys.path, -S keeps every
site-packages off it, so the only third-party code this interpreter can import is
what the package ships. Prints what the package test checks, as JSON.
"""

import importlib
import json
import os
import pkgutil
import sys
import sysconfig

root = os.path.realpath(sys.argv[1])
stdlib = os.path.realpath(sysconfig.get_path("stdlib"))
stdlib_zip = os.path.join(
    sys.base_prefix, "lib", f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
)


def from_stdlib(path: str) -> bool:
    real = os.path.realpath(path)
    return (
        real in (stdlib_zip, stdlib) or real.startswith(stdlib + os.sep)
    ) and "site-packages" not in real


def from_package(path: str) -> bool:
    return os.path.realpath(path).startswith(root + os.sep)


# Before anything is imported: nothing but the standard library is reachable.
assert "site" not in sys.modules, "site ran: site-packages may be on sys.path"
assert all(from_stdlib(p) for p in sys.path), sys.path
sys.path.insert(0, root)

import app  # noqa: E402
from chalicelib.templating import render  # noqa: E402

chalicelib = [m.name for m in pkgutil.iter_modules([os.path.join(root, "chalicelib")])]
for name in chalicelib:
    importlib.import_module(f"chalicelib.{name}")

mail_dir = os.path.join(root, "templates", "mail")
context = {"school_name": "OBS De Regenboog", "link": "https://example.test/r/1"}
mails = {
    language: {
        template: render(f"mail/{template}", language, **context)
        for template in sorted(os.listdir(mail_dir))
        if not template.startswith("leadership_week")  # rendered below, from a view
    }
    for language in ("nl", "en")
}

# The accountability PDF imports fpdf2 only when one is made: make one.
from datetime import date  # noqa: E402

from chalicelib import accountability, accountability_files  # noqa: E402

today = date(2026, 12, 3)
empty = accountability.Figures(
    "OBS De Regenboog", accountability.period(today, today, today), "nl", 0, ()
)
pdf_start = accountability_files.pdf_bytes(empty, today)[:5].decode("ascii")

# The leadership snapshot mail, with its PDF, from a snapshot held in memory.
from datetime import UTC, datetime  # noqa: E402

from chalicelib import models, snapshots  # noqa: E402

week = models.WeekSnapshot(
    "obs-de-regenboog",
    "2026-W48",
    created_at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
    school_year="2026-2027",
    reports=3,
    urgent=1,
    week_before=2,
    week_before_urgent=0,
    recent_average=1.5,
    year_total=30,
    open_cases=4,
    overdue=1,
    acted=20,
    median_hours=5,
    within_day=15,
    open_by_age=[[0, 0, 1], [8, None, 3]],
    categories=[["pesten", 3]],
    trend=[["2026-W47", 2], ["2026-W48", 3]],
    effects=[],
)
school = models.School("obs-de-regenboog", name="OBS De Regenboog")
leadership = snapshots.leadership_mail(school, week, "nl")
leadership_mail = {
    "subject": leadership.subject,
    "text": leadership.text,
    "pdf_start": leadership.attachments[0].data[:5].decode("ascii"),
}

loaded_from = {
    name: getattr(module, "__file__", None) for name, module in sys.modules.items()
}
outside = sorted(
    name
    for name, path in loaded_from.items()
    if path
    and name not in ("__main__", "__mp_main__")  # this probe itself
    and not (from_package(path) or from_stdlib(path))
)
print(
    json.dumps(
        {
            "sys_path": sys.path,
            "routes": {path: sorted(by) for path, by in app.app.routes.items()},
            "chalicelib": chalicelib,
            "mails": mails,
            "outside": outside,
            "pdf_start": pdf_start,
            "leadership_mail": leadership_mail,
            "third_party": sorted(
                {
                    name.split(".")[0]
                    for name, path in loaded_from.items()
                    if path and from_package(path)
                }
            ),
        }
    )
)
