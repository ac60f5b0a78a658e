"""Sensible Dutch defaults for a new school, per school type.

Categories follow common Dutch incident registration, locations the places a
primary or secondary school has, interventions the steps of the M5 approach. A
school changes them afterwards; these only give a new school a working form.
"""

from __future__ import annotations

import re

from chalicelib.i18n import LANGUAGES
from chalicelib.models import Category, Choice, Group, Label, Place, School

KINDS = ("primary", "secondary")
HOLIDAY_REGIONS = ("noord", "midden", "zuid")

# id, Dutch label, English label, urgent (alerts the coordinator at once)
CATEGORIES = [
    ("pesten", "Pesten", "Bullying", False),
    ("online_pesten", "Online pesten", "Online bullying", False),
    ("uitschelden", "Uitschelden of kwetsen", "Name-calling or hurting words", False),
    ("buitensluiten", "Buitensluiten", "Leaving someone out", False),
    ("fysiek_geweld", "Slaan, schoppen of duwen", "Hitting, kicking or pushing", False),
    ("bedreiging", "Bedreigen", "Threatening", False),
    (
        "seksueel",
        "Seksueel grensoverschrijdend gedrag",
        "Unwanted sexual behaviour",
        False,
    ),
    ("discriminatie", "Discriminatie", "Discrimination", False),
    (
        "diefstal_vernieling",
        "Stelen of kapotmaken",
        "Stealing or breaking things",
        False,
    ),
    ("wapenbezit", "Een wapen bij zich hebben", "Carrying a weapon", True),
    ("anders", "Iets anders", "Something else", False),
]

PRIMARY_LOCATIONS = [
    ("klas", "In de klas", "In the classroom"),
    ("plein", "Op het schoolplein", "In the playground"),
    ("gang", "In de gang", "In the hallway"),
    ("gym", "Bij gym", "At PE"),
    ("toilet", "Bij de wc", "At the toilets"),
    ("onderweg", "Onderweg naar school of naar huis", "On the way to or from school"),
    ("online", "Online (app, game, social media)", "Online (app, game, social media)"),
    ("buiten_school", "Ergens anders buiten school", "Somewhere else outside school"),
]

SECONDARY_LOCATIONS = [
    ("klas", "In het lokaal", "In the classroom"),
    ("aula", "In de aula", "In the canteen hall"),
    ("plein", "Op het plein", "In the schoolyard"),
    ("gang", "In de gang", "In the hallway"),
    ("gym", "Bij LO / in de kleedkamer", "At PE / in the changing room"),
    ("toilet", "Bij de wc", "At the toilets"),
    ("fietsenstalling", "In de fietsenstalling", "At the bike shed"),
    ("onderweg", "Onderweg naar school of naar huis", "On the way to or from school"),
    ("online", "Online (app, game, social media)", "Online (app, game, social media)"),
    ("buiten_school", "Ergens anders buiten school", "Somewhere else outside school"),
]

INTERVENTIONS = [
    (
        "talk_hurt",
        "Gesprek met de leerling die het overkwam",
        "Talk with the pupil who was hurt",
    ),
    (
        "talk_did_it",
        "Gesprek met de leerling die het deed",
        "Talk with the pupil who did it",
    ),
    ("parents_informed", "Ouders geïnformeerd", "Parents informed"),
    ("restorative", "Herstelgesprek", "Restorative conversation"),
    ("group_talk", "Groepsgesprek", "Group conversation"),
    ("measure", "Maatregel", "Measure"),
    ("referral", "Doorverwijzing", "Referral"),
    ("veilig_thuis", "Melding bij Veilig Thuis", "Report to Veilig Thuis"),
]

# Primary schools have the same groups everywhere; a secondary school's classes
# are its own, so it starts with none and gets them from its roster import.
PRIMARY_GROUPS = ["1/2a", "1/2b", "3", "4", "5", "6", "7", "8"]

# Slugs appear in public URLs and table keys: lower case, digits and dashes.
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")


def group_id(name: str) -> str:
    return "g-" + name.lower().replace("/", "-")


def group_name(kind: str, name: str) -> str:
    """How the school calls a group: "Groep 5" in primary, "H2b" in secondary."""
    return f"Groep {name}" if kind == "primary" else name


def default_groups(kind: str) -> list[str]:
    return list(PRIMARY_GROUPS) if kind == "primary" else []


def new_school(
    slug: str,
    name: str,
    kind: str,
    *,
    region: str = "eu-central-1",
    languages: list[str] | None = None,
    holiday_region: str = "midden",
    groups: list[str] | None = None,
) -> School:
    """A School item with the defaults of its type; not saved."""
    if not SLUG.match(slug):
        raise ValueError(f"slug {slug!r}: lower case letters, digits and dashes")
    if kind not in KINDS:
        raise ValueError(f"type {kind!r}: one of {', '.join(KINDS)}")
    if languages is not None and (
        "nl" not in languages or set(languages) - set(LANGUAGES)
    ):
        raise ValueError(f"languages {languages!r}: nl, optionally en")
    if holiday_region not in HOLIDAY_REGIONS:
        raise ValueError(f"holiday region {holiday_region!r}: {HOLIDAY_REGIONS}")
    locations = PRIMARY_LOCATIONS if kind == "primary" else SECONDARY_LOCATIONS
    names = default_groups(kind) if groups is None else groups
    return School(
        slug,
        name=name,
        kind=kind,
        region=region,
        languages=languages or ["nl", "en"],
        holiday_region=holiday_region,
        groups=[Group(id=group_id(g), name=group_name(kind, g)) for g in names],
        locations=[Place(id=i, label=Label(nl=nl, en=en)) for i, nl, en in locations],
        categories=[
            Category(id=i, label=Label(nl=nl, en=en), urgent=u)
            for i, nl, en, u in CATEGORIES
        ],
        interventions=[
            Choice(id=i, label=Label(nl=nl, en=en)) for i, nl, en in INTERVENTIONS
        ],
    )
