"""Channels: they translate between a transport and the engine, nothing more.

``telegram`` (python-telegram-bot), ``web`` (the HTTP server, the web chat API and its
WebSocket) and ``console`` (``casebot chat`` in a terminal). Each turns what arrives into an
``Incoming`` for ``bot.engine`` and each ``Reply`` into its own shapes. A channel may import the
engine, ``bot.notify``, ``bot.wording`` and ``core``'s services; no dialog imports a channel,
and no business rule lives here.
"""
