"""(placeholder until this verb lands)"""

from workbench.errors import WorkbenchError


def add_arguments(parser):
    pass


def run(args):
    raise WorkbenchError("'compare' is not implemented yet")
