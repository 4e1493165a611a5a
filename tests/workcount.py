"""Work measured as Python lines executed, not seconds: the count depends only on the code
and its input, never on how loaded the machine is, so a test can compare sizes exactly.
Quadratic work shows as 16 times the lines for 4 times the input; linear work as about 4.
(Loops inside C, such as copying a string, are not counted: bench/ times those.)"""
from __future__ import annotations

import sys


def lines_run(fn, *args, **kwargs) -> int:
    """How many Python lines ``fn(*args, **kwargs)`` executes; what it raises is swallowed
    (a refusal is work too) and what it returns is dropped."""
    count = 0

    def trace(_frame, event, _arg):
        nonlocal count
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the refusal itself is asserted by the caller
        pass
    finally:
        sys.settrace(previous)
    return count


def growth(fn, small, large) -> float:
    """Lines run for ``fn(large)`` over lines run for ``fn(small)``."""
    return lines_run(fn, large) / max(1, lines_run(fn, small))
