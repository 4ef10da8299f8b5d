"""The ``vidroom`` command: serve, migrate, and operator tasks (tokens, teams, API keys)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence

from pydantic import ValidationError

from vidroom import errors
from vidroom.accounts import service as accounts
from vidroom.app import build_state, create_app
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.teams import service as teams


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # the messages only: pydantic's own text repeats the input values, secrets included
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"] and not message.startswith("VIDROOM_"):
                message = f"VIDROOM_{str(error['loc'][0]).upper()}: {message}"
            problems.append(message)
        raise SystemExit(f"vidroom: configuration error: {'; '.join(problems)}") from None
    except ValueError as exc:
        raise SystemExit(f"vidroom: configuration error: {exc}") from None


async def _with_state(settings: Settings, job: Callable[[AppState], Awaitable[None]]) -> None:
    state = await build_state(settings)
    try:
        await job(state)
    finally:
        await state.engine.dispose()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    settings = _settings().model_copy(update=overrides)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:  # refuse a bad pair with one line instead of uvicorn's traceback
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                settings.tls_cert, settings.tls_key
            )
        except (OSError, ssl.SSLError) as exc:
            raise SystemExit(
                f"vidroom: configuration error: VIDROOM_TLS_CERT/VIDROOM_TLS_KEY: {exc}"
            ) from None
    print(f"vidroom serving on {settings.base_url} (data: {settings.data_dir.resolve()})")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        # uvloop's event loop and httptools' parser (both from uvicorn[standard]), named so a
        # missing one fails the start instead of silently falling back to the slower ones
        loop="uvloop",
        http="httptools",
        # the websockets carry small JSON frames: refuse anything large before reading it
        ws_max_size=256 * 1024,
        # built-in HTTPS (VIDROOM_TLS_CERT/KEY); the websockets are then wss:// as well
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    async def job(_state: AppState) -> None:
        print("database is at the newest schema")

    asyncio.run(_with_state(_settings(), job))
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    async def job(state: AppState) -> None:
        async with state.db.uow() as uow:
            user = await accounts.get_or_create_user(uow.session, args.email)
            _, token = await accounts.create_developer_token(uow.session, user, label=args.label)
        print(f"developer token for {user.email} (shown once; keep it secret):")
        print(token)

    asyncio.run(_with_state(_settings(), job))
    return 0


def cmd_teams_create(args: argparse.Namespace) -> int:
    async def job(state: AppState) -> None:
        async with state.db.uow() as uow:
            user = await accounts.get_or_create_user(uow.session, args.owner)
            team = await teams.claim(uow.session, user, args.name)
        print(f"team {team.name} created, owned by {user.email}")
        print(f"invite link: {state.settings.base_url}/invite?tk={team.invite_token}")

    asyncio.run(_with_state(_settings(), job))
    return 0


def cmd_apikeys_create(args: argparse.Namespace) -> int:
    async def job(state: AppState) -> None:
        async with state.db.uow() as uow:
            team = await teams.get(uow.session, args.team)
            _, key = await teams.create_api_key(uow.session, team, None, label=args.label)
        print(f"API key for team {team.name} (shown once; keep it secret):")
        print(key)

    asyncio.run(_with_state(_settings(), job))
    return 0


def cmd_users_password(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("vidroom: the passwords differ")

    async def job(state: AppState) -> None:
        async with state.db.uow() as uow:
            user = await accounts.set_password(uow.session, email=args.email, password=password)
        print(f"password set for {user.email}")

    asyncio.run(_with_state(_settings(), job))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="vidroom", description="Self-hosted video meetings.")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (migrates the database first)")
    serve.add_argument("--host", help="listen address (VIDROOM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (VIDROOM_PORT, default 8080)")
    serve.set_defaults(run=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    tokens = sub.add_parser("tokens", help="developer tokens for the team API")
    tokens_sub = tokens.add_subparsers(dest="action", required=True)
    create = tokens_sub.add_parser("create", help="mint a token (creates the account if needed)")
    create.add_argument("--email", required=True)
    create.add_argument("--label", default="cli")
    create.set_defaults(run=cmd_tokens_create)

    teams_parser = sub.add_parser("teams", help="teams")
    teams_sub = teams_parser.add_subparsers(dest="action", required=True)
    create = teams_sub.add_parser("create", help="create a team")
    create.add_argument("name")
    create.add_argument("--owner", required=True, help="the owner's email")
    create.set_defaults(run=cmd_teams_create)

    keys = sub.add_parser("apikeys", help="API keys for the meeting API")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="mint an API key for a team")
    create.add_argument("--team", required=True)
    create.add_argument("--label", default="cli")
    create.set_defaults(run=cmd_apikeys_create)

    users = sub.add_parser("users", help="user accounts")
    users_sub = users.add_subparsers(dest="action", required=True)
    password = users_sub.add_parser("set-password", help="set a password (creates the account)")
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(run=cmd_users_password)

    from vidroom.client.cli import add_bot_parser

    add_bot_parser(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except errors.VidroomError as exc:
        print(f"vidroom: {exc.message}", file=sys.stderr)
        return 1
    return result
