"""Dialogs: declared state machines, one module per flow, grouped by the part of the domain
they serve (``cases``, ``accounts``, ``appointments``), beside the menu and the language picker.

``base`` is the toolkit a dialog is declared with (``Dialog``, ``Step``, the transitions),
``context`` what its prompts and handlers see during a turn, and ``registry`` the one list of
every dialog. A dialog may import ``core`` services, the toolkit, ``bot.wording`` and
``bot.understanding``; never ``telegram``, ``aiohttp`` or a channel (a test guards it).
"""
