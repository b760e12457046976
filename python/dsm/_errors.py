"""dsm.Error and dsm.IntegrityError (the extension module raises these)."""


class Error(Exception):
    """Anything dsm refuses or fails to do.

    ``str(e)`` is dsm's message (lowercase, the path in quotes, as the CLI
    prints it after ``dsm: error:``); ``e.exit_code`` is what the ``dsm``
    command would exit with: 2 for errors, 1 for problems found.
    """

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


class IntegrityError(Error):
    """Stored bytes that do not match their recorded SHA-256, or a header
    that disagrees with its sidecar (dtype, shape, order).

    ``e.path`` is the payload, ``e.expected_sha256`` what the manifest
    records, ``e.actual_sha256`` what was read ("" when the header
    disagreed). ``exit_code`` is 1, as ``dsm verify`` would exit.
    """

    def __init__(self, message, exit_code=1, path="", expected_sha256="", actual_sha256=""):
        super().__init__(message, exit_code)
        self.path = path
        self.expected_sha256 = expected_sha256
        self.actual_sha256 = actual_sha256
