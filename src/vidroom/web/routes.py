"""Browser pages: one router composed from the page modules, for app.py to include last.

Server-rendered, no build step. Every POST is a form guarded by :func:`security.read_form`
(origin, size, CSRF); every use case runs in one unit of work; success redirects
(post-redirect-get), a failed use case re-renders the page with its message.

The team room page, ``GET /{team}/{room}``, matches any two segments not starting with a
reserved name: it is this router's own last route, after every included page.
"""

from __future__ import annotations

from vidroom.web import auth_pages, dashboard, join, media_pages, room_page
from vidroom.web.render import page_router

router = page_router()
router.include_router(auth_pages.router)
router.include_router(dashboard.router)
router.include_router(media_pages.router)
router.include_router(join.router)
router.add_api_route(room_page.PATH, room_page.room_page, methods=["GET"])  # must stay last

__all__ = ["router"]
