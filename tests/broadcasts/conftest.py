"""The real server with a media worker, as in tests/client (its fixtures reused)."""

from tests.api.eyeson.conftest import acme  # noqa: F401 - fixtures
from tests.client.conftest import _loopback, media_server  # noqa: F401 - fixtures
