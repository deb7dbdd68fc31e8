import sys

from quiz_engine.cli import main

sys.exit(main())
