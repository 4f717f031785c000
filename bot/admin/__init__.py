"""The operators' tools: ``casebot admin`` (``cli``) and the admin HTTP API (``api``, its
requests and its part of the OpenAPI document), which share how operators' input is read
(``input``) and how the domain's refusals are worded for them (``errors``, English only).
They call ``core`` services directly; the HTTP API mounts on the web server of
``bot.channels.web`` and reuses its error answers. Nothing outside ``bot.admin`` but the
command line and the web server imports it.
"""
