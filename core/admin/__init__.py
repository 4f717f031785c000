"""Operators' tools: the audit log and the audited admin actions (command line and HTTP API)."""
