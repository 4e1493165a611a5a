"""Account rules: departments, users, tokens, login throttling."""
import hashlib
import re
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import clock
from portal.accounts.models import ROLES, ApiToken, Department, User
from portal.accounts.passwords import check_password, hash_password
from portal.accounts.permissions import ADMINISTER, require_role
from portal.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from portal.extensions import db
from portal.trail import services as trail

DEPT_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,31}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def department_by_code(code: str) -> Department:
    dept = db.session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise ValidationFailed(f"Unknown department {code!r}.", code="unknown_department",
                               fields={"department": "unknown department"})
    return dept


def user_by_username(username: str, field: str = "user") -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"Unknown user {username!r}.", code="unknown_user",
                               fields={field: f"unknown user {username}"})
    return user


def create_department(actor, code: str, name: str) -> Department:
    """Register a department; the code is pinyin capitals such as SH."""
    if not isinstance(actor, str):
        require_role(actor, ADMINISTER, "manage departments")
    code = (code or "").strip().upper()
    name = (name or "").strip()
    if not DEPT_CODE.match(code):
        raise ValidationFailed("Department code must be capital letters/digits.",
                               fields={"code": "capital letters and digits, up to 32"})
    if not name or len(name) > 200:
        raise ValidationFailed("Department name is required (up to 200 characters).",
                               fields={"name": "required, up to 200 characters"})
    if db.session.execute(select(Department).where(Department.code == code)).first():
        raise Conflict(f"Department {code} already exists.", code="duplicate_department")
    dept = Department(code=code, name=name)
    db.session.add(dept)
    db.session.flush()
    trail.record(actor, "department.create", "department", dept.id, None, {"code": code, "name": name})
    db.session.commit()
    return dept


def _validate_user_fields(username: str, password: str, role: str) -> None:
    errors = {}
    if not USERNAME.match(username or ""):
        errors["username"] = "2-64 letters, digits, _ . -"
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = f"at least {MIN_PASSWORD} characters"
    if role not in ROLES:
        errors["role"] = "one of " + ", ".join(ROLES)
    if errors:
        raise ValidationFailed("Invalid user: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                               fields=errors)


def create_user(actor, username: str, password: str, role: str, department: str | None = None,
                name: str | None = None, expires: date | None = None, email: str | None = None) -> User:
    """Create an account; `actor` is an admin or "cli"."""
    if not isinstance(actor, str):
        require_role(actor, ADMINISTER, "manage users")
    _validate_user_fields(username, password, role)
    if db.session.execute(select(User).where(User.username == username)).first():
        raise Conflict(f"User {username} already exists.", code="duplicate_user")
    dept = department_by_code(department) if department else None
    user = User(username=username, display_name=(name or username)[:200], role=role,
                password_hash=hash_password(password), department=dept, expires_on=expires,
                email=_valid_email(email))
    db.session.add(user)
    db.session.flush()
    trail.record(actor, "user.create", "user", user.id, None, _user_state(user))
    db.session.commit()
    return user


def _valid_email(email: str | None) -> str | None:
    if not email:
        return None
    email = email.strip()
    if len(email) > 200 or not EMAIL.match(email):
        raise ValidationFailed("Invalid e-mail address.", fields={"email": "an address like name@example.com"})
    return email


def _user_state(user: User) -> dict:
    return {"username": user.username, "role": user.role, "department": user.department_code,
            "active": user.active, "expires_on": user.expires_on, "email": user.email}


def update_user(actor, user: User, role: str | None = None, department: str | None = None,
                name: str | None = None, active: bool | None = None,
                expires: date | None | str = "keep", email: str | None = None) -> User:
    """Change role, department, name, activity or expiry; deactivation replaces deletion."""
    require_role(actor, ADMINISTER, "manage users")
    before = _user_state(user)
    if role is not None:
        if role not in ROLES:
            raise ValidationFailed("Unknown role.", fields={"role": "unknown role"})
        user.role = role
    if department is not None:
        user.department = department_by_code(department) if department else None
    if name:
        user.display_name = name[:200]
    if active is not None:
        if not active and user.id == actor.id:
            raise Conflict("You cannot deactivate yourself.", code="self_deactivation")
        user.active = active
    if expires != "keep":
        user.expires_on = expires
    if email is not None:
        user.email = _valid_email(email)
    trail.record(actor, "user.update", "user", user.id, before, _user_state(user))
    db.session.commit()
    return user


def set_password(actor, user: User, password: str) -> None:
    """Reset a password (admin) or change one's own."""
    if actor.id != user.id:
        require_role(actor, ADMINISTER, "reset passwords")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed("Password too short.", fields={"password": f"at least {MIN_PASSWORD} characters"})
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    trail.record(actor, "user.password", "user", user.id, None, None)
    db.session.commit()


def authenticate(username: str, password: str, max_failures: int, lock_minutes: int) -> User:
    """Check a login; repeated failures lock the account for a while."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        check_password(hash_password("timing-equaliser"), password)
        raise NotAuthenticated("Wrong username or password.", code="bad_credentials")
    now = clock.now()
    if user.locked_until and user.locked_until > now:
        raise NotAuthenticated("Too many failed logins; try again later.", code="locked")
    if not check_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until, user.failed_logins = now + timedelta(minutes=lock_minutes), 0
        db.session.commit()
        raise NotAuthenticated("Wrong username or password.", code="bad_credentials")
    if not user.is_active:
        raise NotAuthenticated("This account is deactivated or expired.", code="account_inactive")
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user


def verify_password(user: User, password: str) -> bool:
    """Password re-entry for signatures."""
    return bool(password) and check_password(user.password_hash, password)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(actor, user: User, expires_at: datetime | None = None) -> str:
    """Issue a bearer token; the plain token is returned once and never stored."""
    if not isinstance(actor, str) and actor.id != user.id:
        require_role(actor, ADMINISTER, "issue tokens for others")
    token = "pt_" + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=_token_digest(token), prefix=token[:10], expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    trail.record(actor, "token.create", "token", row.id, None, {"user": user.username, "prefix": row.prefix})
    db.session.commit()
    return token


def revoke_token(actor, token_id: int) -> ApiToken:
    """Revoke a token (its owner or an admin)."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("Unknown token.")
    if actor.id != row.user_id:
        require_role(actor, ADMINISTER, "revoke others' tokens")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        trail.record(actor, "token.revoke", "token", row.id, {"revoked": False}, {"revoked": True})
        db.session.commit()
    return row


def user_for_token(token: str) -> User:
    """Resolve a bearer token; expired, revoked or inactive → NotAuthenticated."""
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token))
    ).scalar_one_or_none()
    now = clock.now()
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("Invalid or revoked token.", code="invalid_token")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated("Token expired.", code="token_expired")
    if not row.user.is_active:
        raise NotAuthenticated("Account deactivated or expired.", code="account_inactive")
    return row.user


def list_departments(active_only: bool = False):
    query = select(Department).order_by(Department.code)
    if active_only:
        query = query.where(Department.active.is_(True))
    return db.session.execute(query).scalars().all()


def list_users():
    return db.session.execute(select(User).order_by(User.username)).scalars().all()
