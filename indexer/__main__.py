import sys

from chat.cli import main

sys.exit(main(["index", *sys.argv[1:]]))
