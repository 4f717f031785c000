"""The case flows: looking up a case by receipt number (``case_status``), the signed-in
person's own cases (``my_cases``), and what both show of a case and offer to do with it
(``case_view``). Like every dialog they may import ``core`` services, the dialog toolkit and
``bot.wording``; never a channel.
"""
