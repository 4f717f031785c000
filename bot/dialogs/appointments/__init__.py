"""The appointment flow (``appointments``): finding an office (``offices``), booking a slot
(``booking``), listing, rescheduling and cancelling (``manage``), the shared steps and texts
(``common``), reading typed days and times (``inputs``) and calendar files (``calendar``).
Like every dialog they may import ``core`` services, the dialog toolkit and ``bot.wording``;
never a channel.
"""
