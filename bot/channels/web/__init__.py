"""The web chat channel and the HTTP server around it: the server (``server``: routes, health,
metrics, the widget), the chat API (``api``) and its OpenAPI document (``openapi``), sessions,
turns and transcripts (``chat``), notifications pushed on open WebSockets (``push``), the
widget's labels (``widget_labels``), who a request counts against (``client_address``) and the
batching of turns (``batch``). It translates JSON to ``Incoming`` and ``Reply`` to JSON and
nothing more: it may import the engine, ``bot.notify``, ``bot.wording`` and ``core``'s
services; no dialog and no business rule.
"""
