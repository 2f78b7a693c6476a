"""The compiled text kernels (`narcotrace._textcore`, built from _textcore.c at install), if usable.

`KERNELS` is the module, or None when it was not built (no C compiler at install), when it is a stale
build of an older version of the C source (its ABI_VERSION differs), or when the environment variable
NARCOTRACE_PURE_PYTHON is set (to compare both paths or to rule the kernels out). Callers then run the
reference code in Python and NumPy, which gives the same results, more slowly.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

ABI_VERSION = 5  # must equal ABI_VERSION in _textcore.c


def _load() -> ModuleType | None:
    if os.environ.get("NARCOTRACE_PURE_PYTHON"):
        return None
    try:
        from narcotrace import _textcore
    except ImportError:
        return None
    if getattr(_textcore, "ABI_VERSION", None) != ABI_VERSION:
        warnings.warn(f"narcotrace._textcore is a stale build (ABI {getattr(_textcore, 'ABI_VERSION', None)}, "
                      f"expected {ABI_VERSION}); using the slower Python path. Reinstall: make setup",
                      RuntimeWarning, stacklevel=2)
        return None
    return _textcore


KERNELS = _load()
