"""The account flows: signing in (``link_account``), the password and sign-in help menu
(``account_help``) and the flows it leads to (``forgot_password``, ``lost_device``,
``create_account``), with what they share (``common``: codes, sealed secrets, QR codes).
Like every dialog they may import ``core`` services, the dialog toolkit and ``bot.wording``;
never a channel.
"""
