"""Channels: they translate between a transport and the engine, nothing more."""
