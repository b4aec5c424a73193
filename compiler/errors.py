"""The one error type the compiler raises for bad input: the CLI prints it without a traceback."""

from __future__ import annotations


class CompileError(Exception):
    """A problem with the input or the environment, phrased for the user.

    ``problems`` holds one line per problem (several machines can be wrong at once);
    ``hint`` says what to do next.
    """

    def __init__(self, problems: str | list[str], hint: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.hint = hint
        super().__init__("\n".join(self.problems))

    def render(self) -> str:
        if len(self.problems) == 1:
            text = f"error: {self.problems[0]}"
        else:
            text = f"error: {len(self.problems)} problems\n" + "\n".join(
                f"  - {problem}" for problem in self.problems
            )
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text
