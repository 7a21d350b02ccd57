"""The one exception type that reaches the user as a one-line message."""


class PyruncError(Exception):
    """A user-facing error: str(err) is printed on one line, exit status 1."""


class NotExistError(PyruncError):
    """The container does not exist (clients match on "does not exist")."""

    def __init__(self, msg: str = "container does not exist") -> None:
        super().__init__(msg)


class ChildError(PyruncError):
    """A container process failed at a step of its native plan (errno kept)."""

    def __init__(self, msg: str, err: int) -> None:
        super().__init__(msg)
        self.errno = err
