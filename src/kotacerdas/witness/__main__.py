import sys

from kotacerdas.witness.cli import main

sys.exit(main())
