"""casebot's domain: accounts, cases, appointments and the outbox, over SQLAlchemy 2 async.

Nothing here knows a chat, a channel or a language: errors carry data and the chat layer words
them.
"""
