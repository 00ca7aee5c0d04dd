"""`python -m server [serve|train|bench] ...`"""

from .cli import main

raise SystemExit(main())
