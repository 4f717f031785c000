"""The USCIS Case Status API, the real implementation of ``core``'s case-status source port:
``client`` speaks its HTTP (OAuth 2.0 client credentials, one shared token, retries with
backoff and jitter), ``wiring`` builds it from the settings with the shared quota, circuit
breaker and cache of ``core.cases.uscis``, and runs the poller of followed cases. It may import
``core``, ``bot.settings`` and aiohttp's client; nothing here knows a chat channel or a dialog.
"""
