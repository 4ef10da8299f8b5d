"""Password hashing with Argon2id (argon2-cffi). Hashing is CPU-bound: run it off the loop."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


async def hash_password(password: str) -> str:
    result: str = await anyio.to_thread.run_sync(_hasher.hash, password)
    return result


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return bool(_hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


# A hash to verify against when the account does not exist, so that a login for an unknown
# email costs the same time as one for a known email.
DUMMY_HASH = _hasher.hash("vidroom-dummy-password")
