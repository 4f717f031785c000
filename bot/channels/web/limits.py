"""The web chat's limits (from the settings) and its Prometheus metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.channels.web.client_address import Network

__all__ = ["WebChatConfig", "WebMetrics"]


@dataclass(frozen=True)
class WebChatConfig:
    """The limits of the web chat API.

    Attributes:
        rate_limit: messages one session may send per ``rate_window``.
        idle_expiry: a session unused this long is refused; the browser starts a new one.
        max_body_bytes: the largest request body.
        origins: pages allowed to embed the chat besides the server's own (None: any port of
            http://localhost and http://127.0.0.1; ``*`` in it: any).
        new_sessions_per_client: sessions one client (an address; see
            ``bot.channels.web.client_address``) may open per ``rate_window``.
        messages_per_client: messages one client may send per ``rate_window`` across all its
            sessions (without it, sessions opened one after another add up without end).
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` names the client.
    """

    rate_limit: int = 30
    rate_window: timedelta = timedelta(minutes=1)
    idle_expiry: timedelta = timedelta(hours=24)
    max_body_bytes: int = 8 * 1024
    origins: tuple[str, ...] | None = None
    new_sessions_per_client: int = 10
    messages_per_client: int = 60
    trusted_proxies: tuple[Network, ...] = ()


class WebMetrics:
    """Prometheus metrics of one web app, in its own registry (tests build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "casebot_webchat_turns",
            "Turns handled through the web chat API",
            registry=self.registry,
        )
        self.errors = Counter(
            "casebot_http_errors",
            "HTTP error responses, by error code",
            ["code"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "casebot_webchat_turn_seconds",
            "Time to handle one web chat turn (engine and transcript)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
