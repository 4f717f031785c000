"""casebot's conversation layer, channels and command line, on top of ``core``.

At the top stand only the entry points: ``cli`` (``casebot``, ``python -m bot``), ``app`` (the
composition root), ``serve`` (what ``casebot serve`` runs, built on it) and ``settings`` (the
configuration they read). Everything else lives in a
package: ``engine`` (turns), ``dialogs`` (flows), ``understanding`` (free text), ``wording``
(languages, errors, statuses), ``notify`` (the outbox and mail), ``channels`` (Telegram, web,
terminal), ``admin`` (operator tools) and ``ops`` (metrics, housekeeping).
"""
