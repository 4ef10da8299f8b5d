"""Use cases for accounts: sign-up, log-in, developer tokens, browser sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.accounts import repository
from vidroom.accounts.models import DeveloperToken, User, WebSession
from vidroom.accounts.passwords import (
    DUMMY_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import random_token, same, token_hash

DEVELOPER_TOKEN_LENGTH = 40
SESSION_TOKEN_LENGTH = 43
MAX_NAME_LENGTH = 100
MAX_AVATAR_LENGTH = 2000


def normalize_email(email: str) -> str:
    """A syntactically valid address, lower-cased (emails identify accounts case-insensitively)."""
    if not isinstance(email, str) or not email.strip():
        raise errors.invalid("email_required", "an email address is required")
    if len(email) > 254:
        raise errors.invalid("email_invalid", "the email address is too long")
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise errors.invalid("email_invalid", f"invalid email address: {exc}") from None
    return info.normalized.lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise errors.invalid(
            "password_too_short", f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise errors.invalid("password_too_long", "the password is too long")


def _clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise errors.invalid("name_too_long", f"names have at most {MAX_NAME_LENGTH} characters")
    return name or None


def _clean_avatar(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_AVATAR_LENGTH or not url.startswith(("https://", "http://")):
        raise errors.invalid("avatar_invalid", "the avatar must be an http(s) URL")
    return url


async def get_or_create_user(session: AsyncSession, email: str) -> User:
    email = normalize_email(email)
    user = await repository.user_by_email(session, email)
    if user is None:
        user = User(email=email)
        session.add(user)
        await session.flush()
    return user


async def sign_up(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str | None = None,
    avatar_url: str | None = None,
) -> User:
    email = normalize_email(email)
    _check_password(password)
    if await repository.user_by_email(session, email) is not None:
        raise errors.conflict("email_taken", "an account with this email exists; log in instead")
    user = User(
        email=email,
        name=_clean_name(name),
        avatar_url=_clean_avatar(avatar_url),
        password_hash=await hash_password(password),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.conflict("email_taken", "an account with this email exists") from None
    return user


async def set_password(session: AsyncSession, *, email: str, password: str) -> User:
    _check_password(password)
    user = await get_or_create_user(session, email)
    user.password_hash = await hash_password(password)
    await session.flush()
    return user


async def update_profile(
    session: AsyncSession, user: User, *, name: str | None, avatar_url: str | None
) -> User:
    user.name = _clean_name(name)
    user.avatar_url = _clean_avatar(avatar_url)
    await session.flush()
    return user


async def log_in(session: AsyncSession, *, email: str, password: str) -> User:
    failure = errors.unauthenticated("login_failed", "wrong email or password")
    try:
        email = normalize_email(email)
    except errors.VidroomError:
        raise failure from None
    user = await repository.user_by_email(session, email)
    if user is None or user.password_hash is None:
        await verify_password(DUMMY_HASH, password)
        raise failure
    if not await verify_password(user.password_hash, password):
        raise failure
    return user


# --- developer tokens -------------------------------------------------------------------------


async def create_developer_token(
    session: AsyncSession, user: User, *, label: str = ""
) -> tuple[DeveloperToken, str]:
    """A new token for ``user``. The plaintext is returned once and never stored."""
    plaintext = random_token(DEVELOPER_TOKEN_LENGTH)
    row = DeveloperToken(
        user_id=user.id,
        token_hash=token_hash(plaintext),
        prefix=plaintext[:6],
        label=(label or "").strip()[:100],
    )
    session.add(row)
    await session.flush()
    return row, plaintext


async def list_developer_tokens(session: AsyncSession, user: User) -> Sequence[DeveloperToken]:
    return await repository.tokens_of(session, user.id)


async def revoke_developer_token(session: AsyncSession, user: User, token_id: str) -> None:
    tokens = await repository.tokens_of(session, user.id)
    for row in tokens:
        if row.id == token_id:
            if row.revoked_at is None:
                row.revoked_at = utc_now()
                await session.flush()
            return
    raise errors.not_found("token_not_found", "no such developer token")


async def user_for_developer_token(session: AsyncSession, plaintext: str) -> User:
    """The owner of a live developer token, else an ``unauthenticated`` error."""
    if not plaintext or len(plaintext) > 200:
        raise errors.unauthenticated("token_invalid", "invalid developer token")
    digest = token_hash(plaintext)
    row = await repository.token_by_hash(session, digest)
    if row is None or not same(row.token_hash, digest):
        raise errors.unauthenticated("token_invalid", "invalid developer token")
    if row.revoked_at is not None:
        raise errors.unauthenticated("token_revoked", "this developer token has been revoked")
    user = await repository.user_by_id(session, row.user_id)
    if user is None:
        raise errors.unauthenticated("token_invalid", "invalid developer token")
    return user


# --- browser sessions -------------------------------------------------------------------------


async def open_web_session(session: AsyncSession, user: User, *, days: int) -> str:
    plaintext = random_token(SESSION_TOKEN_LENGTH)
    now = utc_now()
    await repository.delete_expired_sessions(session, now)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=token_hash(plaintext),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    await session.flush()
    return plaintext


async def user_for_web_session(session: AsyncSession, plaintext: str | None) -> User | None:
    if not plaintext or len(plaintext) > 200:
        return None
    row = await repository.web_session_by_hash(session, token_hash(plaintext))
    if row is None or row.expires_at < utc_now():
        return None
    return await repository.user_by_id(session, row.user_id)


async def close_web_session(session: AsyncSession, plaintext: str | None) -> None:
    if plaintext:
        await repository.delete_web_session(session, token_hash(plaintext))
