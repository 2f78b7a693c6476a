"""Build the optional compiled text kernels (narcotrace._textcore); everything else is in pyproject.toml.

The extension is optional: where no C compiler is found, narcotrace installs without it and runs the same
NumPy and regular-expression code it would otherwise replace (same results, slower `scan`).
(-ffp-contract=off: a*b+c is rounded twice, as NumPy and SciPy compute it, so that the model's scores from
the kernel are the same to the last bit as from the design matrix.)
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("narcotrace._textcore", ["src/narcotrace/_textcore.c"], optional=True,
                             extra_compile_args=["-O2", "-ffp-contract=off"],
                             libraries=["m"])])
