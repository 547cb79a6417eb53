"""``python -m pipeline``: see ``pipeline.cli``."""

from pipeline import worker
from pipeline.cli import exit_now, main

worker.allow_fork()  # a process that runs one command: its local runs may fork warm workers
exit_now(main())
