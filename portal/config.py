"""Configuration read from PORTAL_* environment variables."""
import os
import secrets
from pathlib import Path


def _instance_path() -> Path:
    return Path(os.environ.get("PORTAL_INSTANCE", "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """Use PORTAL_SECRET_KEY, else a key persisted in the instance folder.

    A random key per process would log everybody out on every restart and
    break sessions between several web workers.
    """
    key = os.environ.get("PORTAL_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    os.chmod(path, 0o600)
    return key


class Config:
    """Production defaults; every value can be overridden by a PORTAL_* variable."""

    def __init__(self) -> None:
        instance = _instance_path()
        instance.mkdir(parents=True, exist_ok=True)  # the SQLite file, index and files live here
        self.INSTANCE_PATH = str(instance)
        self.SECRET_KEY = _secret_key(instance)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "PORTAL_DATABASE_URL", f"sqlite:///{instance / 'portal.db'}"
        )
        # One connection per serving thread (waitress defaults to 8; benchmarks run 32) so
        # requests never wait for the pool.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 40}
        self.TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai")
        self.BABEL_DEFAULT_LOCALE = os.environ.get("PORTAL_LOCALE", "zh_CN")
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.MAX_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_UPLOAD_MB", "10")) * 1024 * 1024
        # Leave headroom above the upload limit for multipart framing; the
        # upload checks give the precise 413.
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_BYTES + 1024 * 1024
        self.MAX_JSON_FIELD = 1_000_000
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("PORTAL_SECURE_COOKIES", "0") == "1"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None
        # Sign-in throttling (portal/accounts/throttle.py): free failures per account and
        # per client address, then waits of 30 s doubling up to the cap; a quiet hour forgets.
        self.LOGIN_MAX_FAILURES = 5
        self.LOGIN_CLIENT_MAX_FAILURES = int(os.environ.get("PORTAL_LOGIN_CLIENT_MAX_FAILURES", "20"))
        self.LOGIN_DELAY_SECONDS = 30
        self.LOGIN_DELAY_CAP_MINUTES = 15
        self.LOGIN_FORGET_MINUTES = 60
        # Browsers must reach the portal over HTTPS only (HSTS) once its cookies are secure.
        self.HSTS = self.SESSION_COOKIE_SECURE
        self.SMTP_HOST = os.environ.get("PORTAL_SMTP_HOST", "")
        self.SMTP_PORT = int(os.environ.get("PORTAL_SMTP_PORT", "25"))
        # Where people open the portal; e-mails carry absolute links from it.
        self.BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
        self.SMTP_FROM = os.environ.get("PORTAL_SMTP_FROM", "portal@localhost")
        # One process: the web process indexes right after each committed change. With
        # several web processes set 0 and run `portal index-worker`.
        self.SEARCH_INLINE = os.environ.get("PORTAL_SEARCH_INLINE", "1") == "1"
        self.ACKNOWLEDGE_DAYS = int(os.environ.get("PORTAL_ACKNOWLEDGE_DAYS", "7"))
        self.REVIEW_WARNING_DAYS = int(os.environ.get("PORTAL_REVIEW_WARNING_DAYS", "30"))
        # Printed at the top of the Word reports people file (portal/docx_layout.py).
        self.COMPANY_NAME = os.environ.get("PORTAL_COMPANY_NAME", "")


class TestingConfig(Config):
    """Config for the test suite: an explicit database URL and cheap hashing."""

    def __init__(self, database_url: str, instance: str) -> None:
        os.environ.setdefault("PORTAL_SECRET_KEY", "test-secret")
        os.environ["PORTAL_INSTANCE"] = instance
        super().__init__()
        self.TESTING = True
        self.SEARCH_INLINE = False  # search tests drain the outbox themselves
        self.SQLALCHEMY_DATABASE_URI = database_url
        self.ARGON2_FAST = True
