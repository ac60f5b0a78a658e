"""The current code for an authenticator key, for trying the local run without
a phone: `python -m local.totp <key shown on the set-up page>`.

Only for the local run: moto gives every user the same key. A real deployment
needs a real authenticator app (the key never leaves the person's phone).
"""

from __future__ import annotations

import argparse
import sys

import pyotp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("key", help="the key the set-up page shows as text")
    args = parser.parse_args(argv)
    totp = pyotp.TOTP(args.key.replace(" ", ""))
    print(totp.now())
    return 0


if __name__ == "__main__":
    sys.exit(main())
