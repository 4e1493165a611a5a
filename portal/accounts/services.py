"""Account rules: departments, users, tokens, login throttling."""
import hashlib
import re
import secrets
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from portal import clock
from portal.accounts import throttle
from portal.accounts.models import ROLES, ApiToken, Department, User
from portal.accounts.passwords import check_password, dummy_hash, hash_password
from portal.accounts.permissions import ADMINISTER, require_role, require_writer
from portal.database import write_intent
from portal.errors import Conflict, NotAllowed, NotAuthenticated, NotFound, ValidationFailed
from portal.extensions import db
from portal.trail import services as trail
from portal.validation import has_illegal_chars

DEPT_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,31}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
# One answer for every refused sign-in (wrong password, unknown, inactive, waiting): nothing
# tells a stranger which accounts exist or what state they are in.
LOGIN_REFUSED = _l("Wrong username or password, an inactive account, or too many attempts "
                   "(then wait a few minutes).")
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@contextmanager
def _own_transaction():
    """Write in a short transaction of its own. Whatever the session held is rolled back
    first, never committed with it (callers of the counters raise right after)."""
    db.session.rollback()
    token = write_intent.set(True)  # SQLite: take the write lock at BEGIN
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.reset(token)


def department_by_code(code: str) -> Department:
    dept = db.session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise ValidationFailed(f"Unknown department {code!r}.", code="unknown_department",
                               fields={"department": "unknown department"})
    return dept


def find_user(username: str) -> User | None:
    """The account of that name, whatever its case (`ADMIN` finds `admin`)."""
    if not isinstance(username, str) or not USERNAME.match(username):
        return None
    return db.session.execute(select(User).where(
        func.lower(User.username) == username.lower())).scalar_one_or_none()


def user_by_username(username: str, field: str = "user") -> User:
    user = find_user(username)
    if user is None:
        raise ValidationFailed(f"Unknown user {username!r}.", code="unknown_user",
                               fields={field: f"unknown user {username}"})
    return user


def create_department(actor, code: str, name: str, manager: str | None = None) -> Department:
    """Register a department; the code is pinyin capitals such as SH. `manager` (a username)
    receives the escalations of its overdue procedure steps."""
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
    boss = department_manager(manager) if manager is not None else None
    if db.session.execute(select(Department).where(Department.code == code)).first():
        raise Conflict(f"Department {code} already exists.", code="duplicate_department")
    dept = Department(code=code, name=name, manager=boss)
    db.session.add(dept)
    db.session.flush()
    trail.record(actor, "department.create", "department", dept.id, None, _department_state(dept))
    db.session.commit()
    return dept


def department_manager(username) -> User:
    """The active account that may manage a department (escalations reach it); 422 otherwise."""
    user = find_user(username) if isinstance(username, str) else None
    if user is None:
        raise ValidationFailed(_("Unknown user %(name)s.", name=str(username)[:64]), code="unknown_user",
                               fields={"manager": "unknown user"})
    if not user.is_active:
        raise ValidationFailed(_("%(name)s is deactivated or expired and cannot manage a department.",
                                 name=user.username), code="inactive_user", fields={"manager": "inactive user"})
    if user.is_read_only:
        raise ValidationFailed(_("An external reviewer cannot manage a department."),
                               code="read_only_manager", fields={"manager": "external reviewer"})
    return user


def _department_state(dept: Department) -> dict:
    return {"code": dept.code, "name": dept.name, "active": dept.active,
            "manager": dept.manager.username if dept.manager else None}


KEEP = object()  # update_department: leave the manager as it is


def update_department(actor, dept: Department, manager=KEEP, name: str | None = None) -> Department:
    """Rename a department or set its manager (a username, or None for no manager); admin."""
    require_role(actor, ADMINISTER, "manage departments")
    if name is not None:
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > 200 or has_illegal_chars(name):
            raise ValidationFailed(_("Department name is required (up to 200 characters)."),
                                   fields={"name": "required, up to 200 characters"})
    boss = dept.manager if manager is KEEP else (None if manager is None else department_manager(manager))
    before = _department_state(dept)
    dept.name = name or dept.name
    dept.manager = boss
    after = _department_state(dept)
    if after != before:
        trail.record(actor, "department.update", "department", dept.id, before, after)
    db.session.commit()
    return dept


def set_department_manager(actor, code: str, username: str | None) -> Department:
    """update_department by department code (the demo, scripts)."""
    return update_department(actor, department_by_code(code), manager=username)


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
    if find_user(username) is not None:  # kept as typed; one name whatever the case
        raise Conflict(_("User %(name)s already exists.", name=username), code="duplicate_user")
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
    """Change role, department, name, activity or expiry; deactivation replaces deletion.
    Everything is checked before anything changes; a role change or deactivation ends the
    user's sessions."""
    require_role(actor, ADMINISTER, "manage users")
    if role is not None and role not in ROLES:
        raise ValidationFailed(_("Unknown role."), fields={"role": "unknown role"})
    role = role if role != user.role else None
    dept = department_by_code(department) if department else None
    email = _valid_email(email) if email is not None else user.email
    active = active if active != user.active else None
    _guard_admins(actor, user, role, active, expires)
    before = _user_state(user)
    if role is not None or active is False:
        end_sessions(user)
    user.role = role or user.role
    if department is not None:
        user.department = dept
    user.display_name = name[:200] if name else user.display_name
    user.active = user.active if active is None else active
    user.expires_on = user.expires_on if expires == "keep" else expires
    user.email = email
    trail.record(actor, "user.update", "user", user.id, before, _user_state(user))
    db.session.commit()
    return user


def _guard_admins(actor, user: User, role: str | None, active: bool | None, expires) -> None:
    """No admin locks themselves out, and the portal always keeps an admin: the last active
    admin without an end date stays one (an end date would remove them on that day)."""
    if user.id == actor.id:
        if active is False:
            raise Conflict(_("You cannot deactivate yourself."), code="self_deactivation")
        if role is not None:
            raise Conflict(_("You cannot change your own role."), code="self_role_change")
        if isinstance(expires, date) and expires < clock.today():
            raise ValidationFailed(_("Your own expiry date cannot be in the past."),
                                   code="self_expiry", fields={"expires": "today or later"})
    after = (role or user.role, user.active if active is None else active,
             user.expires_on if expires == "keep" else expires)
    if _keeps_portal(user.role, user.active, user.expires_on) and not _keeps_portal(*after):
        if not _other_lasting_admins(user):
            raise Conflict(_("The portal must keep at least one active administrator without an "
                             "expiry date."), code="last_admin")


def _other_lasting_admins(user: User) -> list[int]:
    # Row locks in id order (PostgreSQL): two admins demoting each other at once queue, and
    # the second then sees that the first is no longer an admin.
    ids = db.session.execute(select(User.id).where(
        User.role == "admin", User.active.is_(True), User.expires_on.is_(None))
        .order_by(User.id).with_for_update()).scalars().all()
    return [i for i in ids if i != user.id]


def _keeps_portal(role: str, active: bool, expires_on: date | None) -> bool:
    return role == "admin" and active and expires_on is None


def set_password(actor, user: User, password: str) -> None:
    """Reset a password (admin) or change one's own; every session of the user ends."""
    if actor.id != user.id:
        require_role(actor, ADMINISTER, "reset passwords")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed("Password too short.", fields={"password": f"at least {MIN_PASSWORD} characters"})
    user.password_hash = hash_password(password)
    throttle.clear(user)
    end_sessions(user)
    trail.record(actor, "user.password", "user", user.id, None, None)
    db.session.commit()


def end_sessions(user: User) -> None:
    """End every session of the user (part of the caller's transaction)."""
    user.session_version += 1


def log_out(user: User) -> None:
    """Sign out: this and every other session of the user ends."""
    end_sessions(user)
    db.session.commit()


def user_for_session(session_id: str) -> User | None:
    """The user a session cookie names ("id:version"), unless that session was ended."""
    user_id, _sep, version = (session_id or "").partition(":")
    if not (user_id.isdecimal() and version.isdecimal()):
        return None  # includes cookies from before session versions
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def authenticate(username: str, password: str, client: str | None = None) -> User:
    """Check a sign-in from a client address. Every refusal is alike: one message, and the
    password checked exactly once (against the account's hash, or a dummy of equal cost)."""
    now, address = clock.now(), throttle.client_key(client)
    user = find_user(username)
    waits = throttle.account_waits(user, now) or throttle.client_waits(address, now)
    stored = user.password_hash if user is not None and not waits else dummy_hash()
    user_id, usable = (user.id, user.is_active) if user is not None else (None, False)
    db.session.rollback()  # no snapshot or lock is held during the slow hash
    accepted = check_password(stored, password or "") and usable and not waits
    if not waits:
        with _own_transaction():
            _count_sign_in(user_id, address, accepted, now)
    if not accepted:
        raise NotAuthenticated(str(LOGIN_REFUSED), code="bad_credentials")
    return db.session.get(User, user_id)


def _count_sign_in(user_id: int | None, address: str, accepted: bool, now: datetime) -> None:
    if accepted:
        throttle.clear(db.session.get(User, user_id, with_for_update=True))
        return
    throttle.count_client_failure(address, now)
    if user_id is not None:
        throttle.count_account_failure(user_id, now)


def verify_password(user: User, password: str) -> bool:
    """Password re-entry (signatures, reviews, disposals) counts towards the sign-in lockout.
    A wrong password is counted in a transaction of its own after the caller's is rolled
    back: callers check the password before changing anything, and raise on False."""
    now = clock.now()
    if throttle.account_waits(user, now):
        raise NotAllowed(_("Too many wrong passwords; try again in a few minutes."), code="locked")
    if not isinstance(password, str) or not password:
        return False  # nothing was guessed
    if check_password(user.password_hash, password):
        if user.failed_logins:
            throttle.clear(user)  # with the caller's change
        return True
    user_id = user.id
    with _own_transaction():
        throttle.count_account_failure(user_id, now)
    return False


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(actor, user: User, expires_at: datetime | None = None) -> str:
    """Issue a bearer token; the plain token is returned once and never stored."""
    if not isinstance(actor, str):
        require_writer(actor)
        if actor.id != user.id:
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
    require_writer(actor)
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
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        _note_token_use(row.id, now)
    return row.user


def _note_token_use(token_id: int, now: datetime) -> None:
    """Date a token's use, at most once a minute and in a transaction of its own (called
    before the request did anything). Best effort: a busy database never fails the request."""
    try:
        with _own_transaction():
            db.session.execute(update(ApiToken).where(
                ApiToken.id == token_id,
                (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION),
            ).values(last_used_at=now).execution_options(synchronize_session=False))
    except OperationalError:
        from flask import current_app

        current_app.logger.warning("api token %s: last use not recorded (database busy)", token_id)


def list_departments(active_only: bool = False):
    query = select(Department).order_by(Department.code)
    if active_only:
        query = query.where(Department.active.is_(True))
    return db.session.execute(query).scalars().all()


def list_users():
    return db.session.execute(select(User).order_by(User.username)).scalars().all()
