"""(placeholder until this verb lands)"""

from workbench.errors import WorkbenchError


def add_arguments(parser):
    pass


def run(args):
    raise WorkbenchError("'score' is not implemented yet")
