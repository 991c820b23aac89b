from envman.cli.main import run

run()
