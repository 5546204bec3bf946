"""The one exception type whose message is meant for the user, printed as one line without a traceback."""


class ReportgenError(Exception):
    """A problem with the user's input: the message names the file, what is wrong and what to do."""


class ModelFormatError(ReportgenError):
    """The model file cannot be loaded as any supported format."""


class DataError(ReportgenError):
    """The data path cannot be read as an image folder, split tree or CSV manifest."""
