"""What keeps a running casebot observable and tidy: the metrics an operator reads at
``/metrics`` (the funnel of every dialog, the outbox, the inbox) and the hourly housekeeping
that deletes expired rows. It may import ``core`` and the dialog toolkit (for the names of
dialogs and steps); channels and the composition root import it, not the other way round.
"""
