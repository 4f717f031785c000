"""How casebot speaks and reads each of its eleven languages: the gettext catalogs and Babel
formatting (``i18n``), the one table that words every domain error (``errors``), the case
statuses in plain words (``statuses``), what to say when a part of the world is down
(``outage``), and what people type read their own way (``local_input``: yes and no, digits,
dates and times). It may import ``core`` and the channel-neutral model; the engine, the
dialogs, the notifications and the channels import it.
"""
