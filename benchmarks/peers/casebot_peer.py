"""casebot itself as the peers benchmark runs it: ``casebot serve`` (its Telegram adapter,
polling or webhook by the usual settings), with the outgoing limiter's pacing off.

``python -m benchmarks.peers.casebot_peer serve --port P`` is ``casebot serve --port P`` except
that the rate limiter is ``CasebotRateLimiter(limits_enabled=False)``: Telegram's 30 messages/s
would otherwise be the figure measured, and the peers send without any limiter (neither
framework paces by default). The limiter still handles 429s and retries; nothing else changes.
"""

from __future__ import annotations

import sys

import bot.channels.telegram.webhook as telegram_webhook
from bot.channels.telegram.limiter import CasebotRateLimiter
from bot.cli import main

telegram_webhook.default_rate_limiter = lambda: CasebotRateLimiter(limits_enabled=False)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
