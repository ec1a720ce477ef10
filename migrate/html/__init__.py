"""The HTML report: ``report/index.html`` (the estate at a glance) and one page per
process (``report/processes/<dag_id>.html``: both graphs side by side, the schedule, every
finding).

Pages are built from the intermediate model (migrate/ir.py) and the Sundial model, never
from generated code, by the convert workers like DAG files (migrate/units.py,
migrate/workers.py).  Graphs are laid out by Graphviz's ``dot`` (migrate/html/layout.py),
many graphs per ``dot`` process; without ``dot`` the pages have no pictures and say how to
get them.  Every string from Sundial is escaped text (migrate/html/text.py); the pages load
nothing from the network and run no script (the index runs one, from report/assets/).
"""
