"""Code execution: the ``code`` verifier and the sandbox it runs programs in.

``CodeVerifier`` (registry name ``code``) extracts the completion's final code block
and runs it on the sample's tests (stdin/stdout, function calls, or assert-style
check programs) in a :class:`Sandbox`: fresh user, PID, network, mount, IPC and UTS
namespaces, a read-only root with a private ``/tmp``, cgroup or rlimit limits, and a
wall-clock deadline enforced from outside. Outputs are compared in the parent.

``run_python(code)`` runs a snippet and returns what it printed (tool-integrated
reasoning); ``available_languages()`` lists the toolchains found on this machine.

Example:
    >>> from moreward.verifiers.code import run_python
    >>> run_python("print(sum(range(10)))").stdout
    '45\\n'
"""

from .cases import TestSuite, parse_tests
from .compare import OutputComparator, values_equal
from .languages import Language, available_languages, get_language
from .sandbox import DEFAULT_REQUIRE, Capabilities, ExecResult, Limits, Sandbox, get_sandbox, run_python
from .verifier import CodeVerifier, extract_code

__all__ = [
    "DEFAULT_REQUIRE",
    "Capabilities",
    "CodeVerifier",
    "ExecResult",
    "Language",
    "Limits",
    "OutputComparator",
    "Sandbox",
    "TestSuite",
    "available_languages",
    "extract_code",
    "get_language",
    "get_sandbox",
    "parse_tests",
    "run_python",
    "values_equal",
]
