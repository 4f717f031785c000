"""casebot's conversation layer, channels and command line, on top of ``core``."""
