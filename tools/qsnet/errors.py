"""The errors qsnet raises: the command line prints them as one line
("qsnet: error: ...") and exits 1, or 2 for a timeout."""


class QsnetError(Exception):
    """Something went wrong driving a node."""


class QsnetTimeout(QsnetError):
    """A wait ran out of time."""


class QsnetClosed(QsnetError):
    """The console closed under us (e.g. the node powered off); .output
    holds the text received until then."""

    def __init__(self, msg, output=""):
        QsnetError.__init__(self, msg)
        self.output = output
