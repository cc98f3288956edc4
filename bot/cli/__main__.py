"""`python -m bot.cli …` is `gfi-bot …`."""

import sys

from bot.cli.main import main

sys.exit(main())
