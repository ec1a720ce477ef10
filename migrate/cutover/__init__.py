"""Going live one process at a time: ``migrate cutover`` and ``migrate rollback``.

journal.py  the record of every step, written before and after it is done
sundial.py  Sundial's REST calls a cutover needs (pause, resume, runs in progress, kill)
core.py     the steps, in the one order that never lets a process run in both schedulers
command.py  the click commands
"""
