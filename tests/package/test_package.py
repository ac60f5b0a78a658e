"""The Lambda deployment package runs on its own and carries no build tools.

`chalice package` ships app.py, chalicelib/ and what vendor/ holds (templates
through a link) with the runtime requirements. The package is built once per
session, unpacked into an empty folder and imported by an interpreter that sees
only that folder and the standard library.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.build import compile_translations

pytestmark = pytest.mark.package

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("package_probe.py")
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"
# Lambda refuses a directly uploaded zip above 50 MB and unpacked code above 250 MB.
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
LAMBDA_UNPACKED_LIMIT = 250 * 1024 * 1024
# Build, test and local-run tools (requirements-dev.txt and what they pull in).
BUILD_ONLY = (
    "babel",
    "moto",
    "faker",
    "playwright",
    "axe_playwright_python",
    "hypothesis",
    "pytest",
    "_pytest",
    "xdist",
    "mypy",
    "ruff",
    "werkzeug",
    "flask",
    "click",
    "local",
    "tests",
    "benchmarks",
)
# Chalice vendors its own runtime (the Chalice app class) and nothing else of it.
CHALICE_RUNTIME = {"__init__.py", "app.py", "app.pyi"}
MB = 1024 * 1024


@dataclass(frozen=True)
class Package:
    zip_path: Path
    root: Path

    @property
    def zip_bytes(self) -> int:
        return self.zip_path.stat().st_size

    @property
    def unpacked_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def top_level(self) -> set[str]:
        return {p.name for p in self.root.iterdir()}


def _build_environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "M5_"))
    }
    # Packaging loads the app with the dev stage's settings: those refuse to start
    # without a secret. Nothing here reaches AWS; dummy credentials prove it.
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "package-test",
            "AWS_SECRET_ACCESS_KEY": "package-test",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "M5_SECRET_KEY": "package-test-only",
        }
    )
    return env


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    compile_translations()
    out = tmp_path_factory.mktemp("package")

    build = subprocess.run(
        [sys.executable, "-c", CHALICE, "package", str(out / "sam")],
        check=False,  # its output explains a failed build in the assertion below
        cwd=REPO,
        env=_build_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    built = Package(out / "sam" / "deployment.zip", out / "unpacked")
    built.root.mkdir()
    with zipfile.ZipFile(built.zip_path) as archive:
        archive.extractall(built.root)
    return built


@pytest.fixture(scope="session")
def probe(package: Package) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(PROBE), str(package.root)],
        check=False,  # a failed import shows its traceback in the assertion below
        cwd=package.root,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "M5_STAGE": "dev",
            "M5_SECRET_KEY": "package-test-only",
            "AWS_DEFAULT_REGION": "eu-central-1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_package_fits_lambda_limits(
    package: Package, record_property: pytest.RecordProperty
) -> None:
    zip_mb, unpacked_mb = package.zip_bytes / MB, package.unpacked_bytes / MB
    record_property("zip_mb", round(zip_mb, 1))
    record_property("unpacked_mb", round(unpacked_mb, 1))
    print(f"\npackage: {zip_mb:.1f} MB zipped, {unpacked_mb:.1f} MB unpacked")

    assert package.zip_bytes < LAMBDA_ZIP_LIMIT
    assert package.unpacked_bytes < LAMBDA_UNPACKED_LIMIT


def test_isolated_interpreter_sees_only_package_and_standard_library(
    probe: dict[str, Any], package: Package
) -> None:
    assert probe["sys_path"][0] == str(package.root.resolve())
    assert not [p for p in probe["sys_path"] if "site-packages" in p]
    assert probe["outside"] == []


def test_app_imports_with_intake_routes(probe: dict[str, Any]) -> None:
    assert probe["routes"]["/schools/{slug}/form"] == ["GET"]
    assert probe["routes"]["/schools/{slug}/reports"] == ["POST"]


def test_every_chalicelib_module_imports(probe: dict[str, Any]) -> None:
    in_repository = {m.name for m in pkgutil.iter_modules([str(REPO / "chalicelib")])}

    assert set(probe["chalicelib"]) == in_repository


def test_mails_render_in_dutch_from_shipped_catalog(probe: dict[str, Any]) -> None:
    nl, en = probe["mails"]["nl"], probe["mails"]["en"]

    assert {"urgent.html", "urgent.txt", "urgent_subject.txt"} <= set(nl)
    assert nl["urgent_subject.txt"].strip() == "Dringende melding voor OBS De Regenboog"
    assert en["urgent_subject.txt"].strip() == "Urgent report for OBS De Regenboog"
    for body in ("urgent.txt", "urgent.html"):
        assert "Er is een dringende melding binnengekomen" in nl[body]
        assert "An urgent report has come in" in en[body]
        assert "https://example.test/r/1" in nl[body]


def test_leadership_mail_and_its_pdf_are_made_from_the_package(
    probe: dict[str, Any],
) -> None:
    mail = probe["leadership_mail"]

    assert mail["subject"] == "Week 2026-W48: het dashboard van OBS De Regenboog"
    assert "- Meldingen in week 2026-W48: 3" in mail["text"].splitlines()
    assert mail["pdf_start"] == "%PDF-"


def test_accountability_pdf_is_made_with_the_shipped_fpdf2(
    probe: dict[str, Any],
) -> None:
    assert probe["pdf_start"] == "%PDF-"
    assert "fpdf" in probe["third_party"]


def test_package_carries_no_build_or_test_tools(package: Package) -> None:
    top_level = {name.split("-")[0].lower() for name in package.top_level()}

    assert top_level.isdisjoint(BUILD_ONLY)
    assert not list(package.root.glob("chalice-*.dist-info"))
    assert {p.name for p in (package.root / "chalice").iterdir()} <= CHALICE_RUNTIME
