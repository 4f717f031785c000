"""The Telegram channel, on python-telegram-bot: the channel itself (``channel``: an ``Update``
becomes an ``Incoming``, a ``Turn`` becomes messages), rendering (``render``), the outgoing rate
limiter (``limiter``), the aiohttp transport (``request``), the webhook route (``webhook``), the
inbox that orders a chat's updates across workers (``inbox``), the outbox sender of
notifications (``sender``) and the token's redaction from logs (``redaction``). It translates
and nothing more: it may import the engine, ``bot.notify``, ``bot.wording`` and ``core``'s
services; no dialog and no business rule.
"""
