"""Receipt codes and keyed hashes.

A receipt code is derived from the submission's idempotency key with a server
secret, so a retried submission gets the same code without the code ever being
stored: only its keyed hash is kept, to find the report again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.config import settings

# 16 characters of base32 = 80 bits: far beyond guessing, short enough to copy.
RECEIPT_CHARS = 16
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _mac(purpose: str, *parts: str) -> bytes:
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(settings.secret_key, message, hashlib.sha256).digest()


def keyed_hash(purpose: str, *parts: str) -> str:
    """A stable, non-reversible token for storing keys, codes and addresses."""
    return _mac(purpose, *parts).hex()[:40]


def receipt_code(school_id: str, idempotency_key: str) -> str:
    raw = base64.b32encode(_mac("receipt", school_id, idempotency_key)).decode()
    code = raw[:RECEIPT_CHARS]
    return "-".join(code[i : i + 4] for i in range(0, RECEIPT_CHARS, 4))


def normalise_receipt(code: str) -> str:
    """Accept what a person types: any case, spaces, 0/1/8 for O/I/B."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum()).translate(_CONFUSABLE)
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def receipt_hash(school_id: str, code: str) -> str:
    return keyed_hash("receipt-hash", school_id, normalise_receipt(code))
