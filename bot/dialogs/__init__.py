"""Dialogs: declared state machines, one module per flow (see registry.py for the list)."""
