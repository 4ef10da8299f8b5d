"""vidroom: self-hosted video meetings with a team API and a meeting API."""

__version__ = "0.1.0"
