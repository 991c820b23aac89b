from envman.cli.entry import run

run()
