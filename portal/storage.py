"""Files stored once by SHA-256 under the instance folder."""
import hashlib
import os
from pathlib import Path

from flask import current_app


def _root() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "files"


def path_for(sha256: str) -> Path:
    return _root() / sha256[:2] / sha256


def store_bytes(data: bytes) -> str:
    """Write the content if new and return its SHA-256 (the content's name)."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return digest


def read_bytes(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
