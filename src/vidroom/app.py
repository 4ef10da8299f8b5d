"""The composition root: builds the application from settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from vidroom import __version__, errors
from vidroom.access_log import AccessLog
from vidroom.api.cors import MeetingApiCORS
from vidroom.api.daily.errors import error_response as daily_error
from vidroom.api.daily.errors import vidroom_error_response as daily_vidroom_error
from vidroom.api.daily.routes import router as daily_router
from vidroom.api.deps import describe_validation
from vidroom.api.eyeson.broadcasts import router as eyeson_broadcasts_router
from vidroom.api.eyeson.downloads import router as eyeson_downloads_router
from vidroom.api.eyeson.errors import EYESON_STATUS
from vidroom.api.eyeson.files import router as eyeson_files_router
from vidroom.api.eyeson.layers import router as eyeson_layers_router
from vidroom.api.eyeson.layout import router as eyeson_layout_router
from vidroom.api.eyeson.playbacks import router as eyeson_playbacks_router
from vidroom.api.eyeson.presentation import router as eyeson_presentation_router
from vidroom.api.eyeson.realtime.redaction import redact_websocket_logs
from vidroom.api.eyeson.realtime.router import router as eyeson_realtime_router
from vidroom.api.eyeson.recordings import router as eyeson_recordings_router
from vidroom.api.eyeson.rooms import router as eyeson_rooms_router
from vidroom.api.eyeson.sepp.router import router as eyeson_sepp_router
from vidroom.api.eyeson.sepp.wiring import start_media, start_workers, stop_media
from vidroom.api.eyeson.snapshots import router as eyeson_snapshots_router
from vidroom.api.eyeson.webhooks import router as eyeson_webhooks_router
from vidroom.api.metrics import router as metrics_router
from vidroom.broadcasts.service import meeting_end_handler
from vidroom.db.engine import (
    close_engine,
    create_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from vidroom.db.migrate import upgrade
from vidroom.db.uow import Database
from vidroom.events.bus import MemoryBus
from vidroom.events.hub import EventHub
from vidroom.files import conversion
from vidroom.meetings.supervisor import MeetingSupervisor
from vidroom.recordings.repair import repair
from vidroom.recordings.retention import RetentionJob
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.storage.media_store import store_for
from vidroom.web.routes import router as web_router
from vidroom.webhooks.delivery import DeliveryWorker, WorkerConfig

WEB_DIR = Path(__file__).parent / "web"
log = logging.getLogger(__name__)


async def build_state(settings: Settings, *, migrate: bool = True) -> AppState:
    settings.ensure_secret_key()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url)
    if migrate:
        await upgrade(engine)
    bus = MemoryBus()
    events = EventHub(bus)
    db = Database(
        create_sessionmaker(engine),
        events,
        read_sessionmaker=create_read_sessionmaker(engine),
    )
    supervisor = MeetingSupervisor(
        db,
        grace_seconds=settings.meeting_grace_seconds,
        presence_seconds=settings.presence_seconds,
    )
    webhook_config = WorkerConfig.from_settings(settings)
    webhooks = DeliveryWorker(db, settings.ensure_secret_key(), webhook_config, settings)
    events.on_commit_bound(meeting_end_handler(events))  # before the webhooks: they see it
    events.on_commit_bound(webhooks.on_event)
    return AppState(
        settings=settings,
        engine=engine,
        db=db,
        bus=bus,
        events=events,
        supervisor=supervisor,
        webhooks=webhooks,
    )


def _is_team_api(request: Request) -> bool:
    return request.url.path.startswith("/domains")


def create_app(settings: Settings, state: AppState | None = None) -> FastAPI:
    """The ASGI app. With ``state`` given (tests), the lifespan does not build or dispose it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state is not None:
            app.state.vidroom = state
            yield
            return
        built = await build_state(settings)
        app.state.vidroom = built
        built.supervisor.start()
        built.webhooks.start()
        built.media = start_media(app, built)
        await start_workers(built.media)
        store = store_for(settings.media_dir)
        try:
            await repair(built.db, built.media, store)  # what a killed server left running
        except Exception:
            log.exception("could not repair the recordings a previous run left")
        retention = RetentionJob(built.db, store, days=settings.retention_days)
        retention.start()
        await conversion.fail_interrupted(built.db)
        try:
            yield
        finally:
            await conversion.cancel_all()
            await retention.stop()
            await stop_media(app)
            await built.webhooks.stop()
            await built.supervisor.stop()
            await close_engine(built.engine)

    # clients put credentials in /rt's query string: keep them out of uvicorn's log lines
    redact_websocket_logs()
    app = FastAPI(
        title="vidroom",
        version=__version__,
        description=(
            "Self-hosted video meetings. The team API (`/domains/...`) takes "
            "`Authorization: Bearer <developer token>`."
        ),
        lifespan=lifespan,
    )
    if state is not None:
        app.state.vidroom = state

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if _is_team_api(request):
            return daily_error(exc.status_code, message, "http_error")
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = describe_validation(list(exc.errors()))
        if _is_team_api(request):
            return daily_error(400, message, "invalid")
        return JSONResponse({"error": message}, status_code=400)

    @app.exception_handler(errors.VidroomError)
    async def vidroom_error(request: Request, exc: errors.VidroomError) -> Response:
        if _is_team_api(request):
            return daily_vidroom_error(exc)
        return JSONResponse({"error": exc.message}, status_code=EYESON_STATUS.get(exc.kind, 400))

    @app.get("/health", tags=["ops"], summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(metrics_router)
    app.include_router(daily_router)
    app.include_router(eyeson_rooms_router)
    app.include_router(eyeson_realtime_router)
    app.include_router(eyeson_sepp_router)
    app.include_router(eyeson_files_router)
    app.include_router(eyeson_broadcasts_router)
    app.include_router(eyeson_recordings_router)
    app.include_router(eyeson_snapshots_router)
    app.include_router(eyeson_downloads_router)
    app.include_router(eyeson_webhooks_router)
    app.include_router(eyeson_layout_router)
    app.include_router(eyeson_layers_router)
    app.include_router(eyeson_presentation_router)
    app.include_router(eyeson_playbacks_router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(web_router)
    app.add_middleware(MeetingApiCORS, origins=settings.cors_origins)
    app.add_middleware(AccessLog)
    return app
