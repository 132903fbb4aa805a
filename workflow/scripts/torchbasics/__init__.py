"""torchbasics: the library behind the pipeline's entry scripts.

Every stage's logic lives here so that it can be unit-tested without Snakemake; the scripts in
``workflow/scripts/`` only read the ``snakemake`` object and call these functions.
"""

__version__ = "0.1.0"
