"""Password hashing with Argon2id (memory-hard)."""
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_strong = PasswordHasher()
# The test suite hashes hundreds of passwords; the production cost would
# dominate its run time without testing anything more.
_fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("ARGON2_FAST"):
        return _fast
    return _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _dummy_for(hasher: PasswordHasher) -> str:
    return hasher.hash("no account has this password")


def dummy_hash() -> str:
    """A hash that costs what an account's costs, computed once: a refused sign-in checks
    the password against it so every refusal takes the same time."""
    return _dummy_for(_hasher())


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _strong.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
