"""(placeholder until this verb lands)"""

from workbench.errors import WorkbenchError


def add_arguments(parser):
    pass


def run(args):
    raise WorkbenchError("'build_tiny' is not implemented yet")
