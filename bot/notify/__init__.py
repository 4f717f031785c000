"""Notifications leaving casebot: the outbox dispatcher and its senders (one per channel), the
chat messages it words at send time, the Telegram replies kept in the outbox with their turn,
and the mailers (a Maildir folder or SMTP). It may import ``core``, ``bot.wording`` and the
channel-neutral model of ``bot.engine``; a channel plugs its own sender in, so nothing here
imports a channel.
"""
