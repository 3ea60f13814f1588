import sys

from veil.cli.main import main

if __name__ == "__main__":      # not when a spawned worker process (veil.data.covers) imports it as __mp_main__
    sys.exit(main())
